"""Background work of the core app, and the plumbing every long task uses to show progress.

A page starts the work with ``start_with_progress(task, owner=..., label=..., kind=...)``:
it creates a ``Progress`` row, enqueues the task with the row's id (tasks take plain
JSON-able arguments only) and sends the person to ``progress.get_absolute_url()``, which
polls it with htmx. The task itself is a thin wrapper::

    @task()
    def import_things(progress_id: str, upload_name: str) -> dict:
        return run_with_progress(progress_id, lambda progress: _import(progress, upload_name))

``run_with_progress`` loads the row, attributes every write to its owner in the audit trail
(source "task"), runs the work in one transaction, and records ``succeeded`` with the
work's result or ``failed`` with a readable error. Nothing is half-written: a failure rolls
the whole transaction back.

Progress updates made *inside* a transaction are written with it, so they show only when it
commits. Work that should show a live bar while it writes either reports progress during
its read-and-compute phase and writes at the end, or - when it writes no rows, like the
audit export below - runs with ``atomic=False`` and makes its output appear all at once
(a file written under a temporary name and renamed).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from tandem.core import exports
from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource, ProgressState
from tandem.core.models import ChangeLog, Engagement, Progress, User
from tandem.core.tasks_compat import task

logger = logging.getLogger(__name__)

EXPORT_DIR_NAME = "exports"
EXPORT_CHUNK = 500


class TaskFailure(Exception):
    """A failure whose message is meant for the person who started the work."""


def start_with_progress(
    task_: Any,
    *,
    owner: User,
    label: str,
    kind: str,
    engagement: Engagement | None = None,
    owner_only: bool = True,
    **kwargs: Any,
) -> Progress:
    """Create a ``Progress`` for ``owner`` and enqueue ``task_(progress_id=..., **kwargs)``.

    With the database backend the task row and the progress row are written on the same
    connection: called inside a transaction, both appear to the worker at commit. With the
    immediate backend (unit tests) the task has finished when this returns.
    """
    progress = Progress.objects.create(
        owner=owner,
        label=label[:200],
        kind=kind[:60],
        engagement=engagement,
        owner_only=owner_only,
    )
    result = task_.enqueue(progress_id=str(progress.pk), **kwargs)
    # A queryset update: the immediate backend may already have finished the work, and
    # saving this (stale) instance would overwrite its state.
    Progress.objects.filter(pk=progress.pk).update(task_id=str(result.id)[:64])
    progress.refresh_from_db()
    return progress


def run_with_progress(
    progress_id: str,
    work: Callable[[Progress], Any],
    *,
    atomic: bool = True,
) -> Any:
    """Run ``work(progress)`` as the progress owner and record how it ended.

    ``work`` returns a JSON-able result, stored on the row. An exception marks the row
    ``failed`` with a message (the full traceback goes to the log) and is raised again, so
    the task backend records the failure too.
    """
    progress = Progress.objects.select_related("owner").get(pk=progress_id)
    progress.update(percent=0, message="Started")
    try:
        with audit_context(source=AuditSource.TASK, user=progress.owner):
            if atomic:
                with transaction.atomic():
                    result = work(progress)
            else:
                result = work(progress)
    except Exception as exc:
        logger.exception("Task %s (%s) failed", progress.kind, progress.pk)
        _finish(progress, state=ProgressState.FAILED, error=_describe(exc))
        raise
    _finish(progress, state=ProgressState.SUCCEEDED, result=result)
    return result


def _describe(exc: Exception) -> str:
    if isinstance(exc, TaskFailure):
        return str(exc)
    detail = str(exc) or "no further detail"
    return f"The work stopped with an unexpected error ({type(exc).__name__}: {detail})."


def _finish(progress: Progress, *, state: str, result: Any = None, error: str = "") -> None:
    # Reload first: the work may have saved the row, and a rolled-back transaction leaves
    # this instance's fields out of step with the database.
    progress.refresh_from_db()
    progress.state = state
    progress.error = error
    if state == ProgressState.SUCCEEDED:
        progress.percent = 100
        progress.message = "Done"
        progress.result = json.loads(json.dumps(result, default=str))
    else:
        progress.message = "Failed"
    progress.save(update_fields=["state", "percent", "message", "result", "error", "last_updated"])


# --- the audit trail as CSV ------------------------------------------------------------------

EXPORT_COLUMNS = [
    "time_utc",
    "user",
    "source",
    "action",
    "object_type",
    "object_id",
    "object",
    "changes",
    "message",
    "request_id",
    "client_address",
]
#: The same columns, typed for the one export writer (``tandem.core.exports``): the time is an
#: instant (UTC), everything else text - names, objects and messages neutralized there.
AUDIT_COLUMNS = [
    exports.Column(name, exports.Kind.DATETIME if name == "time_utc" else exports.Kind.TEXT)
    for name in EXPORT_COLUMNS
]


def export_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / EXPORT_DIR_NAME


def export_path(file_name: str) -> Path:
    """The path of an export file; refuses names that would leave the export folder."""
    if not file_name or Path(file_name).name != file_name or file_name.startswith("."):
        raise ValueError(f"not an export file name: {file_name!r}")
    return export_dir() / file_name


@task()
def export_audit_csv(progress_id: str, engagement_id: int) -> Any:
    """Write the engagement's audit trail, as its owner may see it, to a CSV file."""
    return run_with_progress(
        progress_id, lambda progress: _export_audit(progress, engagement_id), atomic=False
    )


def _export_audit(progress: Progress, engagement_id: int) -> dict[str, Any]:
    owner = progress.owner
    if owner is None or not Engagement.objects.restrict(owner).filter(pk=engagement_id).exists():
        raise TaskFailure("You no longer have access to this engagement's audit trail.")
    records = ChangeLog.objects.restrict(owner).filter(engagement_id=engagement_id)
    # The trail is append-only: pinning the newest id gives a consistent snapshot without
    # holding a transaction (and, on SQLite, the write lock) for the whole export.
    last_pk = records.aggregate(last=Max("pk"))["last"] or 0
    records = records.filter(pk__lte=last_pk).select_related("content_type").order_by("pk")
    total = records.count()

    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    file_name = f"audit-engagement-{engagement_id}-{progress.pk}.csv"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".export-", suffix=".csv")
    written = 0
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            audit_rows = map(_audit_row, records.iterator(chunk_size=EXPORT_CHUNK))
            lines = exports.csv_lines(AUDIT_COLUMNS, audit_rows)
            stream.write(next(lines))  # the headers
            for line in lines:
                stream.write(line)
                written += 1
                if written % EXPORT_CHUNK == 0:
                    progress.update(
                        percent=min(99, written * 100 // max(total, 1)),
                        message=f"{written:,} of {total:,} records written",
                    )
        Path(temporary).replace(export_path(file_name))
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return {"file_name": file_name, "rows": written}


def _audit_row(record: ChangeLog) -> list[Any]:
    """One record's values for :data:`AUDIT_COLUMNS` (the writer neutralizes the text)."""
    changes = {name: [before, after] for name, before, after in record.diff}
    return [
        record.time,
        record.user_name,
        record.source,
        record.action,
        f"{record.content_type.app_label}.{record.content_type.model}",
        record.object_id,
        record.object_repr,
        json.dumps(changes, default=str, sort_keys=True),
        record.message,
        str(record.request_id),
        record.client_address or "",
    ]
