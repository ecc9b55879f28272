"""Background work of the service app: importing a staged export (its preview, with a time
budget, is ``tandem.service.tasks_preview``).

The import runs with ``atomic=False``: reading a large export takes most of the time and
writes nothing, so its progress shows live; ``import_tickets`` then opens its own single
transaction for the writes (its progress within shows when it commits).

How it recovers (``tandem.core.tasks_recovery``): an import whose worker died or was
stopped is recorded as a failed ``ImportBatch`` (audited, by the system) and its staged
files are removed; it cannot be tried again without the file, so its page asks for the
upload again.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from tandem.core import audit
from tandem.core.choices import AuditAction, AuditSource
from tandem.core.models import Engagement, Progress
from tandem.core.services import NotAllowed
from tandem.core.tasks import TaskFailure, run_with_progress
from tandem.core.tasks_compat import task
from tandem.core.tasks_recovery import Recovery, Refusal, register_recovery, start_again
from tandem.ingest import IngestError
from tandem.service import services
from tandem.service.choices import ImportFormat, ImportStatus
from tandem.service.imports import Staged, StagedMissing
from tandem.service.models import ImportBatch


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


# Recovery ------------------------------------------------------------------------------------

FILE_REMOVED = "Its uploaded file was removed: upload it again to import it."


def staged_of(progress: Progress) -> Staged | None:
    """The staged upload an import's or a preview's progress works on, while it is kept."""
    try:
        return Staged.load(str((progress.arguments or {}).get("staged_id", "")))
    except StagedMissing:
        return None


def import_abandoned(progress: Progress, reason: str) -> str | None:
    """An import whose worker died: record it as a failed import and remove its files.

    The import writes its ``ImportBatch`` in the same transaction as its tickets, so a dead
    worker leaves none: this one says, on the engagement's import list, that the import was
    tried and why it failed. Unless the import had in fact committed before the worker died.
    """
    staged = staged_of(progress)
    engagement = progress.engagement
    file_name = staged.file_name if staged else progress.label.removeprefix("Import of ")
    stored = None
    if engagement is not None:
        stored = (
            ImportBatch.objects.filter(
                engagement=engagement,
                imported_by_id=progress.owner_id,
                file_name=file_name[:255],
                status=ImportStatus.IMPORTED,
                started_at__gte=progress.created,
            )
            .order_by("-pk")
            .first()
        )
    if stored is not None:
        if staged is not None:
            staged.discard()
        return f"The worker stopped after the import was stored: see {stored}."
    if engagement is not None:
        _record_failed_import(progress, engagement, staged, file_name, reason)
    if staged is not None:
        staged.discard()
    return f"{reason} {FILE_REMOVED}"


def _record_failed_import(
    progress: Progress, engagement: Engagement, staged: Staged | None, file_name: str, reason: str
) -> ImportBatch:
    format = (staged.format if staged else None) or ""
    if staged is not None and not format:
        format = (staged.load_preview() or {}).get("format") or ""
    batch = ImportBatch(
        engagement=engagement,
        file_name=file_name[:255],
        format=format if format in ImportFormat.values else ImportFormat.GENERIC,
        time_zone=staged.time_zone if staged else engagement.time_zone,
        mapping=staged.batch_mapping if staged else {},
        keep_text=staged.keep_text if staged else False,
        status=ImportStatus.FAILED,
        error=reason,
        imported_by_id=progress.owner_id,
        started_at=progress.created,
        finished_at=max(timezone.now(), progress.created),
    )
    with audit.audit_context(source=AuditSource.SYSTEM):
        # One record, with the reason, as an import writes its batch once (no per-save hook).
        ImportBatch.objects.bulk_create([batch])
        audit.record(
            batch,
            action=AuditAction.CREATE,
            before=None,
            after=audit.snapshot(batch),
            message=f"import of {batch.file_name} failed: {reason}"[:300],
        )
    return batch


def import_refusal(progress: Progress) -> Refusal | None:
    """An import is tried again from its staged file; once that is gone, upload it again."""
    return upload_again(
        progress,
        "The uploaded file of this import was removed when it failed: upload it again "
        "to import it.",
    )


def upload_again(progress: Progress, message: str) -> Refusal | None:
    """No retry once the staged upload is gone (``message`` says why): the wizard instead."""
    if staged_of(progress) is not None:
        return None
    url = ""
    if progress.engagement_id:
        url = reverse("service:import_upload", args=[progress.engagement_id])
    return Refusal(message, url=url, link_text="Upload again")


def import_retry(progress: Progress, user: Any) -> str:
    staged = staged_of(progress)
    again = start_again(progress, user)
    if staged is not None and staged.directory.exists():
        staged.import_progress_id = str(again.pk)
        staged.save()
    return reverse("service:import_progress", args=[again.pk])


register_recovery(
    import_staged,
    Recovery(abandoned=import_abandoned, refusal=import_refusal, retry=import_retry),
)
