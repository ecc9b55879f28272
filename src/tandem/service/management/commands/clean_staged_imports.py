"""``tandem clean_staged_imports``: remove import-wizard uploads never confirmed.

An upload waits in ``MEDIA_ROOT/imports/<id>/`` between the wizard's preview and confirm
steps; imports remove theirs when they end, and each new upload removes those abandoned more
than a day ago. Run this from cron or a systemd timer too where uploads are rare and disk
space is tight, or with ``--hours`` for a shorter limit.

It first reaps dead background work (``tandem.core.tasks_recovery``): an import whose worker
died is marked failed and its staged files go with it. Folders of imports that have ended
(left behind when removing them failed) go too, whatever their age.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandParser

from tandem.core.choices import ProgressState
from tandem.core.models import Progress
from tandem.core.tasks_recovery import reap_dead_work
from tandem.service.imports import STAGED_MAX_AGE, Staged, StagedMissing, clean_staged, staging_root


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
        dry_run = options["dry_run"]
        if not dry_run:
            for progress in reap_dead_work():
                self.stdout.write(f"Failed dead work {progress.pk} ({progress.label})")
        removed = _ended_imports(dry_run=dry_run)
        removed += [path for path in clean_staged(age, dry_run=dry_run) if path not in removed]
        verb = "Would remove" if options["dry_run"] else "Removed"
        for path in removed:
            self.stdout.write(f"{verb} {path}")
        self.stdout.write(f"{verb} {len(removed)} staged upload{'s' if len(removed) != 1 else ''}.")


def _ended_imports(*, dry_run: bool) -> list[Path]:
    """Staging folders of imports that have ended (succeeded or failed)."""
    root = staging_root()
    if not root.is_dir():
        return []
    ended = []
    for directory in root.iterdir():
        try:
            staged = Staged.load(directory.name)
        except StagedMissing:
            continue
        if not staged.import_progress_id:
            continue
        try:
            state = (
                Progress.objects.filter(pk=staged.import_progress_id)
                .values_list("state", flat=True)
                .first()
            )
        except ValidationError:  # not a progress id: a hand-edited staged.json
            continue
        if state in {ProgressState.SUCCEEDED, ProgressState.FAILED}:
            if not dry_run:
                staged.discard()
            ended.append(directory)
    return ended
