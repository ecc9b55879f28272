"""``tandem run_sla``: measure an engagement's tickets against its SLA policy versions, now.

    tandem run_sla --engagement ID [--as-of ISO8601] [--as USER_EMAIL]

Runs the run in this process (no worker needed), with progress on stdout; the run appears on
the engagement's SLA runs page like any other, with its progress bar. It runs as a worker runs
it (``sla_runs.create_run_here``, then ``run_with_progress``): a heartbeat keeps it alive, so a
command killed mid-run has its run failed with the reason once the lease
(``TANDEM_TASK_LEASE_SECONDS``) expires, and the engagement is free again; Ctrl-C fails it at
once.
``--as-of`` without an offset is read in the engagement's time zone. Without ``--as`` the
run is the system's. A refused or failed run exits non-zero, and a failed one stores nothing.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource
from tandem.core.models import Engagement, User
from tandem.core.services import NotAllowed
from tandem.core.tasks import TaskFailure, run_with_progress
from tandem.service import sla_runs, tasks_sla
from tandem.service.choices import RunStatus


class Command(BaseCommand):
    help = "Measure an engagement's tickets against its SLA policy versions (an SLA run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--engagement", required=True, type=int, help="the engagement's id")
        parser.add_argument(
            "--as-of",
            dest="as_of",
            help="measure open clocks up to this instant (ISO 8601; default now; "
            "no offset: the engagement's time zone)",
        )
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="USER_EMAIL",
            help="who starts the run (default: the system)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        engagement = Engagement.objects.filter(pk=options["engagement"]).first()
        if engagement is None:
            raise CommandError(f"no engagement with id {options['engagement']}")
        actor = None
        if options["actor"]:
            actor = User.objects.filter(email__iexact=options["actor"], is_active=True).first()
            if actor is None:
                raise CommandError(f"no active user with email {options['actor']!r} (--as)")
        as_of = _instant(options["as_of"], engagement.time_zone) if options["as_of"] else None
        with audit_context(source=AuditSource.COMMAND, user=actor):
            try:
                run, progress = sla_runs.create_run_here(
                    engagement=engagement, user=actor, as_of=as_of
                )
            except (sla_runs.RunRefused, NotAllowed) as exc:
                raise CommandError(f"no run: {exc}") from None
            self.stdout.write(
                f"SLA {run.label} (id {run.pk}) of {engagement}, "
                f"{run.get_as_of_basis_display()}, {run.as_of:%Y-%m-%d %H:%M} UTC"
            )
            # A failed run is recorded on the run and its progress (TaskFailure): said below.
            with suppress(TaskFailure):
                run_with_progress(
                    str(progress.pk),
                    lambda progress: tasks_sla.execute(progress, run.pk, echo=self.report),
                    atomic=False,
                    source=AuditSource.COMMAND,
                )
        run.refresh_from_db()
        if run.status != RunStatus.DONE:
            raise CommandError(f"SLA {run.label} failed, nothing was stored: {run.error}")
        self.stdout.write(self.style.SUCCESS(f"SLA {run.label}: {sla_runs.summary(run)}"))

    def report(self, percent: int, message: str) -> None:
        self.stdout.write(f"[{percent:3d}%] {message}")


def _instant(text: str, time_zone: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of {text!r} is not an ISO 8601 date and time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(time_zone))
    return value
