"""``tandem demo``: migrate, load the demo data, print the logins, serve with one worker.

The embedded demo is one command on a fresh machine: it migrates the SQLite database under
``TANDEM_DATA_DIR``, loads the demo (idempotent), prints who can sign in, then runs one
``db_worker`` process beside Django's development server on http://127.0.0.1:8000 and stops
the worker when the server stops (Ctrl-C or SIGTERM). ``--no-serve`` stops after the
logins, for scripts and tests. Production runs a WSGI server and ``tandem db_worker``
processes instead (see the README).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from argparse import ArgumentParser, ArgumentTypeError
from types import FrameType
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from tandem.core.demo import PASSWORD, Login, load_demo
from tandem.core.registry import load_app_demos

WORKER_COMMAND = [sys.executable, "-m", "tandem", "db_worker", "--no-reload", "--interval", "1"]


def port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def ticket_count(value: str) -> int:
    try:
        count = int(value.replace(",", "").replace("_", ""))
    except ValueError:
        raise ArgumentTypeError(f"{value!r} is not a number of tickets") from None
    if not 100 <= count <= 2_000_000:
        raise ArgumentTypeError(f"{count} tickets: choose 100 to 2,000,000")
    return count


class Command(BaseCommand):
    help = (
        "Migrate the database, load the demo data (idempotent), print the demo logins, then "
        "serve the demo on http://127.0.0.1:8000 with one background worker. With --no-serve, "
        "stop after printing the logins."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-serve",
            action="store_true",
            help="Migrate and load the demo, print the logins and exit.",
        )
        parser.add_argument(
            "--host", default="127.0.0.1", help="Address to serve on (default: 127.0.0.1)."
        )
        parser.add_argument(
            "--tickets",
            type=ticket_count,
            default=None,
            help="How many service-desk tickets to generate for Riverside the first time "
            "(default: 150,000).",
        )
        parser.add_argument(
            "--port", type=port_number, default=8000, help="Port to serve on (default: 8000)."
        )

    def handle(
        self,
        *args: Any,
        no_serve: bool,
        host: str,
        port: int,
        tickets: int | None = None,
        **options: Any,
    ) -> None:
        verbosity = options.get("verbosity", 1)
        if not host.strip() or any(ch.isspace() for ch in host):
            raise CommandError(f"--host {host!r} is not an address to serve on.")
        self.stdout.write(self.style.MIGRATE_HEADING("Preparing the database…"))
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        summary = load_demo()
        # Then each app's part, in the order they registered (tandem.core.registry): the
        # service app's Riverside tickets, policy and SLA run print their progress.
        created = summary.created + load_app_demos(tickets=tickets, write=self.stdout.write)
        if created:
            self.stdout.write(f"Demo data loaded ({created} records created).")
        else:
            self.stdout.write("Demo data already present: nothing to add.")
        url = f"http://{_url_host(host)}:{port}"
        self._print_logins(summary.logins, url)
        if no_serve:
            return
        # runserver ends the process outright when it cannot listen, which would orphan
        # the worker: find out first.
        _check_free(host, port)
        self._serve(host, port)

    def _print_logins(self, logins: list[Login], url: str) -> None:
        headers = ("E-mail", "Password", "Name", "Role", "Engagement")
        rows = [
            (login.email, PASSWORD, login.name, login.role, login.engagement) for login in logins
        ]
        widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

        def line(cells: tuple[str, ...]) -> str:
            padded = (cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
            return "  ".join(padded).rstrip()

        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Tandem demo — sign in at {url}"))
        self.stdout.write(f"Every demo login uses the password: {PASSWORD}")
        self.stdout.write("")
        self.stdout.write(line(headers))
        self.stdout.write(line(tuple("-" * width for width in widths)))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write("")
        self.stdout.write(
            "Platform administrators must set up two-factor authentication (an authenticator "
            "app) at their first sign-in."
        )

    def _serve(self, host: str, port: int) -> None:
        self.stdout.write("Starting one background worker: " + " ".join(WORKER_COMMAND[1:]))
        worker = subprocess.Popen(WORKER_COMMAND)
        previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
        terminated = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal terminated
            terminated = signum == signal.SIGTERM
            raise KeyboardInterrupt  # runserver turns this into a clean exit

        # Explicit handlers: a shell starting us in the background may have ignored SIGINT.
        for number in previous:
            signal.signal(number, stop)
        try:
            # The development server, without the autoreloader (it would fork a second
            # server and leave the worker behind); it serves static files from the
            # installed packages whatever DEBUG says.
            call_command(
                "runserver",
                f"{host}:{port}",
                use_reloader=False,
                use_threading=True,
                insecure_serving=True,
            )
        except KeyboardInterrupt:
            pass
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            # Ctrl-C reaches the worker too (same process group): a task it was running ends
            # at once as failed ("the worker was stopped", nothing saved; see
            # tandem.core.tasks), then the worker exits - give it a few seconds to record that.
            # A SIGTERM was sent to this process only: pass it on at once (same outcome).
            _stop_worker(worker, grace=0 if terminated else 5)
            self.stdout.write("Demo stopped.")


def _stop_worker(worker: subprocess.Popen[bytes], *, grace: float) -> None:
    """Stop the worker: a task it runs ends as failed at once (SIGINT or SIGTERM), then it
    exits; killed if it hangs."""
    try:
        worker.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _check_free(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise CommandError(f"Cannot serve on {host!r}: {exc.strerror}.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise CommandError(
                f"Cannot serve on {host}:{port}: {exc.strerror}. Is the demo already running? "
                "Choose another port with --port."
            ) from None


def _url_host(host: str) -> str:
    if host in {"0.0.0.0", "::", ""}:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host
