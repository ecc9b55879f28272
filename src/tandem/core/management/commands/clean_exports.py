"""``tandem clean_exports``: remove background export files older than a day.

Background exports (a list of more than ``TANDEM_EXPORT_BACKGROUND_ROWS`` rows, the audit
trail's CSV) are written to ``MEDIA_ROOT/exports/`` and downloaded from their progress page.
Each new background export removes those older than a day; run this from cron or a systemd
timer too where exports are rare and disk space is tight, or with ``--hours`` for a shorter
limit. Temporary files a dead worker left behind go the same way.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tandem.core.exports_background import MAX_AGE, clean_exports


class Command(BaseCommand):
    help = "Delete background export files older than a day (their download links end)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=int(MAX_AGE.total_seconds() // 3600),
            help="remove files older than this many hours (default 24)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["hours"] < 0:
            raise CommandError(f"--hours {options['hours']}: give a number of hours, 0 or more.")
        removed = clean_exports(timedelta(hours=options["hours"]), dry_run=options["dry_run"])
        verb = "Would remove" if options["dry_run"] else "Removed"
        for path in removed:
            self.stdout.write(f"{verb} {path.name}")
        self.stdout.write(f"{verb} {len(removed)} export file{'s' if len(removed) != 1 else ''}.")
