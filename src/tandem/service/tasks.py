"""Background work of the service app: importing a staged export (its preview, with a time
budget, is ``tandem.service.tasks_preview``).

The import runs with ``atomic=False``: reading a large export takes most of the time and
writes nothing, so its progress shows live; ``import_tickets`` then opens its own single
transaction for the writes (its progress within shows when it commits).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tandem.core.models import Engagement, Progress
from tandem.core.services import NotAllowed
from tandem.core.tasks import TaskFailure, run_with_progress
from tandem.core.tasks_compat import task
from tandem.ingest import IngestError
from tandem.service import services
from tandem.service.imports import Staged, StagedMissing


@task()
def import_staged(progress_id: str, staged_id: str) -> Any:
    """Import a staged upload into its engagement; the staged files go whatever happens."""
    return run_with_progress(
        progress_id, lambda progress: _import(progress, staged_id), atomic=False
    )


def _import(progress: Progress, staged_id: str) -> dict[str, Any]:
    staged = _staged(staged_id)
    try:
        engagement = (
            Engagement.objects.restrict(progress.owner).filter(pk=staged.engagement_id).first()
        )
        if engagement is None or progress.owner_id != staged.owner_id:
            raise TaskFailure("You no longer have access to this engagement.")
        report = _reporter(progress, scale=30)
        try:
            imported = staged.read(report)
            progress.update(percent=30, message="Checking and writing tickets")
            batch = services.import_tickets(
                engagement=engagement,
                actor=progress.owner,
                tickets=imported.tickets,
                holds=imported.holds,
                file_name=staged.file_name,
                format=imported.format,
                time_zone=staged.time_zone,
                mapping=staged.batch_mapping,
                keep_text=staged.keep_text,
                warnings=imported.warnings,
                progress=lambda percent, message: progress.update(
                    percent=30 + percent * 69 // 100, message=message
                ),
            )
        except (IngestError, services.ImportRefused, NotAllowed) as exc:
            raise TaskFailure(f"Nothing was imported. {exc}") from exc
    finally:
        staged.discard()
    return {
        "batch_id": batch.pk,
        "batch_url": reverse("service:importbatch_detail", args=[batch.pk]),
        "summary": services.summary(batch),
    }


def _staged(staged_id: str) -> Staged:
    try:
        return Staged.load(staged_id)
    except StagedMissing:
        raise TaskFailure(
            "The uploaded file is no longer there (already imported, or older than a day). "
            "Upload it again."
        ) from None


def _reporter(progress: Progress, *, scale: int) -> Any:
    """A ``(percent, message)`` callback mapping 0-100 onto 0-``scale`` of the bar."""

    def report(percent: int, message: str) -> None:
        progress.update(percent=percent * scale // 100, message=message)

    return report
