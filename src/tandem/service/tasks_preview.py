"""The import wizard's preview as background work with a time budget, never in the request.

The upload (and each new column mapping) only stages the file and calls ``start_preview``;
the ``preview_upload`` task then reads the file with the same readers and the same
validation as the import itself (``Staged.build_preview``), so every problem the import
would refuse - file, row as a spreadsheet shows it, column - is shown before anyone
confirms, and the counts on the confirm button are the whole file's.

The reading runs in a thread of its own while the task's thread watches the clock
(``TANDEM_PREVIEW_SECONDS``, 60 by default) and copies the reader's progress to the
``Progress`` row. At the deadline the task fails at once with a message saying so; the
reader's thread ends soon after: the readers get the same deadline (``Limits.deadline``)
and look at the clock between their stages and once per chunk they read (a Polars scan
cannot be interrupted: its own row limit bounds it); when they stop first
(``ReadingStopped``), the task fails with the same message. A preview finished late is
never written. The preview itself is kept beside the staged file
(``preview-<revision>.json``), not in the database: it goes away with the upload; the
``Progress`` result holds only its counts.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

from django.conf import settings
from django.urls import reverse

from tandem.core.models import Engagement, Progress, User
from tandem.core.tasks import TaskFailure, run_with_progress, start_with_progress
from tandem.core.tasks_compat import task
from tandem.core.tasks_recovery import Recovery, Refusal, register_recovery, start_again
from tandem.ingest.errors import ReadingStopped
from tandem.ingest.limits import Limits
from tandem.service.import_limits import import_limits
from tandem.service.imports import Staged, StagedMissing
from tandem.service.tasks import staged_of, upload_again

PREVIEW_KIND = "preview_import"
#: How often the task looks at the clock and the reader's progress (seconds).
POLL_SECONDS = 0.25
#: A progress row is written at least this often while the reader is in one long step.
BEAT_SECONDS = 5.0


def preview_seconds() -> float:
    """The time budget of one preview (``TANDEM_PREVIEW_SECONDS``; 60 unless set)."""
    return float(getattr(settings, "TANDEM_PREVIEW_SECONDS", 60))


def start_preview(staged: Staged, *, owner: User, engagement: Engagement) -> Progress:
    """Start reading the current revision of ``staged`` in the background; remember its
    progress row in ``staged.json``. Returns at once (with the immediate task backend of
    the unit tests, after the work)."""
    progress = start_with_progress(
        preview_upload,
        owner=owner,
        label=f"Preview of {staged.file_name}",
        kind=PREVIEW_KIND,
        engagement=engagement,
        staged_id=staged.id,
        revision=staged.revision,
    )
    # Reload: with the immediate backend the task has run and may have changed nothing, but
    # another request (a new mapping) may have saved a newer revision meanwhile.
    try:
        current = Staged.load(staged.id)
    except StagedMissing:
        return progress
    if current.revision == staged.revision:
        current.preview_progress_id = str(progress.pk)
        current.save()
        staged.preview_progress_id = current.preview_progress_id
    return progress


@task()
def preview_upload(progress_id: str, staged_id: str, revision: int = 0) -> Any:
    """Read a staged upload within the time budget and keep its preview beside it."""
    return run_with_progress(
        progress_id, lambda progress: _preview(progress, staged_id, revision), atomic=False
    )


class PreviewTooSlow(TaskFailure):
    """The preview went over its time budget."""


class _Stopped(Exception):
    """Raised inside the reader's thread to make it stop at its next step."""


class _Reading:
    """``Staged.build_preview`` in a thread, reporting to plain attributes (no database)."""

    def __init__(self, staged: Staged, limits: Limits | None = None) -> None:
        self.staged = staged
        self.limits = limits
        self.percent = 0
        self.message = f"Opening {staged.file_name}"
        self.preview: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"preview-{staged.id}", daemon=True)

    def report(self, percent: int, message: str) -> None:
        if self.stop.is_set():
            raise _Stopped
        self.percent, self.message = percent, message

    def _run(self) -> None:
        try:
            preview = self.staged.build_preview(self.report, limits=self.limits)
            self.report(99, "Keeping the preview")
            self.preview = preview
        except _Stopped:
            return
        except BaseException as exc:  # handed to the task's thread, which records it
            self.error = exc


def _preview(progress: Progress, staged_id: str, revision: int) -> dict[str, Any]:
    staged = _staged(staged_id)
    if progress.owner_id != staged.owner_id:
        raise TaskFailure("Only the person who uploaded this file can preview it.")
    if staged.revision != revision:  # a newer mapping has a preview of its own coming
        return {"staged_id": staged_id, "revision": revision, "superseded": True}
    budget = preview_seconds()
    deadline = time.monotonic() + budget
    limits = dataclasses.replace(import_limits(), deadline=deadline, budget=budget)
    reading = _Reading(staged, limits)
    reading.thread.start()
    shown: tuple[int, str] | None = None
    written = 0.0
    while True:
        reading.thread.join(timeout=POLL_SECONDS)
        if not reading.thread.is_alive():
            break
        now = time.monotonic()
        if now >= deadline:
            reading.stop.set()
            raise PreviewTooSlow(_too_slow(staged, budget, reading.message))
        state = (reading.percent, reading.message)
        if state != shown or now - written >= BEAT_SECONDS:
            progress.update(percent=min(state[0], 99), message=state[1])
            shown, written = state, now
    if isinstance(reading.error, ReadingStopped):
        raise PreviewTooSlow(_too_slow(staged, budget, reading.message))
    if reading.error is not None:
        raise reading.error
    preview = reading.preview
    assert preview is not None
    staged.keep_preview(preview)
    return {
        "staged_id": staged_id,
        "revision": revision,
        "ok": bool(preview.get("ok")),
        "tickets": preview.get("tickets"),
        "problems": len(preview.get("problems", ())),
    }


def _too_slow(staged: Staged, budget: float, doing: str) -> str:
    seconds = f"{budget:g}"
    step = doing[:1].lower() + doing[1:] if doing else "reading it"
    return (
        f"The preview took longer than {seconds} s: it was stopped while {step}. Nothing was "
        f"imported. Split {staged.file_name} (for example by month) and upload the parts, or "
        "ask an administrator to import it on the server with the tandem import-tickets command."
    )


def _staged(staged_id: str) -> Staged:
    try:
        return Staged.load(staged_id)
    except StagedMissing:
        raise TaskFailure(
            "The uploaded file is no longer there (imported, discarded, or older than a day). "
            "Upload it again."
        ) from None


# Recovery (a worker that died mid-preview; "Try again" on its progress page) ----------------


def preview_refusal(progress: Progress) -> Refusal | None:
    """A preview is read again from its staged file; once that is gone, upload it again."""
    return upload_again(
        progress,
        "The uploaded file is no longer there (imported, discarded or older than a day): "
        "upload it again.",
    )


def preview_retry(progress: Progress, user: Any) -> str:
    """Read the file again; the wizard's preview page follows the new reading."""
    staged = staged_of(progress)
    if staged is None:
        return start_again(progress, user).get_absolute_url()
    engagement = progress.engagement
    if engagement is None or staged.owner_id != user.pk:
        return start_again(progress, user).get_absolute_url()
    start_preview(staged, owner=user, engagement=engagement)  # the current revision
    return reverse("service:import_preview", args=[staged.id])


register_recovery(preview_upload, Recovery(refusal=preview_refusal, retry=preview_retry))
