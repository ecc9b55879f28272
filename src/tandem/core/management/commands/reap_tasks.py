"""``tandem reap_tasks``: mark background work whose worker died as failed, now.

Work is reaped anyway whenever new work starts, a progress page is polled and a worker
starts a task; run this from cron or a systemd timer where nobody may look for a while
(what a dead SLA run or import held - the engagement's run lock, staged files - is freed at
once). ``--dry-run`` lists the dead work and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.core.tasks_recovery import find_dead_work, lease_seconds, reap_dead_work


class Command(BaseCommand):
    help = (
        "Mark background work whose worker stopped (no heartbeat within the lease, "
        "TANDEM_TASK_LEASE_SECONDS) as failed, and end what it held."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["dry_run"]:
            dead = find_dead_work()
            for item in dead:
                self.stdout.write(
                    f"Would fail {item.progress.pk} ({item.progress.label}): {item.reason}"
                )
            self.stdout.write(
                f"{len(dead)} piece{'s' if len(dead) != 1 else ''} of dead work found."
            )
            return
        ended = reap_dead_work()
        for progress in ended:
            self.stdout.write(f"Failed {progress.pk} ({progress.label}): {progress.error}")
        self.stdout.write(
            f"{len(ended)} piece{'s' if len(ended) != 1 else ''} of dead work marked failed "
            f"(lease {lease_seconds()} s)."
        )
