"""``tandem clean_staged_imports``: remove import-wizard uploads never confirmed.

An upload waits in ``MEDIA_ROOT/imports/<id>/`` between the wizard's preview and confirm
steps; imports remove theirs when they end, and each new upload removes those abandoned more
than a day ago. Run this from cron or a systemd timer too where uploads are rare and disk
space is tight, or with ``--hours`` for a shorter limit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tandem.service.imports import STAGED_MAX_AGE, clean_staged


class Command(BaseCommand):
    help = "Delete staged ticket uploads older than a day (the import wizard's leftovers)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--hours",
            type=int,
            default=int(STAGED_MAX_AGE.total_seconds() // 3600),
            help="remove uploads older than this many hours (default 24)",
        )
        parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        age = timedelta(hours=options["hours"])
        removed = clean_staged(age, dry_run=options["dry_run"])
        verb = "Would remove" if options["dry_run"] else "Removed"
        for path in removed:
            self.stdout.write(f"{verb} {path}")
        self.stdout.write(f"{verb} {len(removed)} staged upload{'s' if len(removed) != 1 else ''}.")
