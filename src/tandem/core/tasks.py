"""Background work of the core app, and the plumbing every long task uses to show progress.

A page starts the work with ``start_with_progress(task, owner=..., label=..., kind=...)``:
it creates a ``Progress`` row (recording the task's dotted path and its arguments, so that
failed work can be started again), enqueues the task with the row's id (tasks take plain
JSON-able arguments only) and sends the person to ``progress.get_absolute_url()``, which
polls it with htmx. The task itself is a thin wrapper::

    @task()
    def import_things(progress_id: str, upload_name: str) -> dict:
        return run_with_progress(progress_id, lambda progress: _import(progress, upload_name))

A command that runs the same work itself, in the foreground, creates the row with
``progress_here`` and calls ``run_with_progress`` directly: same heartbeat, same recovery.

``run_with_progress`` loads the row, records which worker runs it (``host:pid``), keeps it
alive with a heartbeat (``tandem.core.tasks_recovery``), attributes every write to its owner
in the audit trail (source "task"), runs the work in one transaction, and records
``succeeded`` with the work's result or ``failed`` with a readable error - for an exception,
and for what is not one (``SystemExit``, ``KeyboardInterrupt``, a SIGTERM sent to the worker)
too. Nothing is half-written: a failure rolls the whole transaction back. Work whose worker
died without a word (SIGKILL, a power cut) is found by the reaper once its lease expires.

Progress updates made *inside* a transaction are written with it on SQLite, so they show only
when it commits; on PostgreSQL they go through the heartbeat's own connection and show at
once. Work that should show a live bar on both either reports progress during its
read-and-compute phase and writes at the end, or - when it writes no rows, like the audit
export below - runs with ``atomic=False`` and makes its output appear all at once (a file
written under a temporary name and renamed).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from types import FrameType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from tandem.core import exports, tasks_recovery
from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource, ProgressState
from tandem.core.models import ChangeLog, Engagement, Progress, User
from tandem.core.tasks_compat import IMMEDIATE_BACKEND, task

logger = logging.getLogger(__name__)

EXPORT_DIR_NAME = "exports"
EXPORT_CHUNK = 500

_OPEN = (ProgressState.QUEUED, ProgressState.RUNNING)


class TaskFailure(Exception):
    """A failure whose message is meant for the person who started the work."""


class WorkerStopped(KeyboardInterrupt):
    """The worker was asked to stop (SIGTERM, SIGINT) while it ran this work.

    A ``KeyboardInterrupt``, not an ``Exception``: code catching ``Exception`` lets it through,
    and psycopg cancels the running query for it as for Ctrl-C.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


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

    Dead work is reaped first, so that what it held (an SLA run's lock, staged files) is free
    before new work starts. With the database backend the task row and the progress row are
    written on the same connection: called inside a transaction, both appear to the worker at
    commit. With the immediate backend (unit tests) the task has finished when this returns.
    """
    tasks_recovery.reap_dead_work()
    progress = Progress.objects.create(
        owner=owner,
        label=label[:200],
        kind=kind[:60],
        engagement=engagement,
        owner_only=owner_only,
        task_name=getattr(task_, "module_path", "")[:200],
        arguments=json.loads(json.dumps(kwargs, default=str)),
    )
    result = task_.enqueue(progress_id=str(progress.pk), **kwargs)
    # A queryset update: the immediate backend may already have finished the work, and
    # saving this (stale) instance would overwrite its state.
    Progress.objects.filter(pk=progress.pk).update(task_id=str(result.id)[:64])
    progress.refresh_from_db()
    return progress


def progress_here(
    task_: Any,
    *,
    owner: User | None,
    label: str,
    kind: str,
    engagement: Engagement | None = None,
    owner_only: bool = True,
    **kwargs: Any,
) -> Progress:
    """A ``Progress`` for the work of ``task_`` that this process runs itself, in the
    foreground (a management command such as ``tandem run_sla``), with ``run_with_progress``.

    The row is as ``start_with_progress`` makes it (the task's path and arguments, so "Try
    again" can queue it), but created running, with this process as its worker and a fresh
    heartbeat: if the process dies before or while the work runs, the reaper finds it once
    the lease expires, exactly like a worker's. No task is queued. ``owner`` may be ``None``
    (the system).
    """
    now = timezone.now()
    return Progress.objects.create(
        owner=owner,
        label=label[:200],
        kind=kind[:60],
        engagement=engagement,
        owner_only=owner_only,
        state=ProgressState.RUNNING,
        message="Starting",
        worker=tasks_recovery.worker_identity(),
        heartbeat=now,
        task_name=getattr(task_, "module_path", "")[:200],
        arguments=json.loads(json.dumps(kwargs, default=str)),
    )


def run_with_progress(
    progress_id: str,
    work: Callable[[Progress], Any],
    *,
    atomic: bool = True,
    source: str = AuditSource.TASK,
) -> Any:
    """Run ``work(progress)`` as the progress owner and record how it ended.

    ``work`` returns a JSON-able result, stored on the row. An exception marks the row
    ``failed`` with a message (the full traceback goes to the log) and is raised again, so
    the task backend records the failure too. So does anything else that ends the work
    (``SystemExit``, ``KeyboardInterrupt``, ``GeneratorExit``, a SIGTERM to the worker), with a
    reason saying so, after the kind of work has ended what it was doing (its ``Recovery``).
    Work that has already ended (failed by the reaper, say) is not run again. Its writes
    are audited with ``source`` (a command running work itself passes its own).
    """
    beating = _heartbeat_wanted()
    if beating:
        tasks_recovery.reap_dead_work()  # a worker reaps others' dead work as it starts
    progress = Progress.objects.select_related("owner").get(pk=progress_id)
    # The signal handlers go in before the work is marked running: a SIGTERM that a page
    # sees as "running" always ends the work as failed, never lets it finish unnoticed.
    with _stop_on_signals() if beating else nullcontext():
        return _claim_and_run(progress, work, atomic=atomic, source=source, beating=beating)


def _claim_and_run(
    progress: Progress,
    work: Callable[[Progress], Any],
    *,
    atomic: bool,
    source: str,
    beating: bool,
) -> Any:
    """Mark the work running (unless it has ended already), run it, record how it ended."""
    now = timezone.now()
    worker = tasks_recovery.worker_identity()
    claimed = Progress.objects.filter(pk=progress.pk, state__in=_OPEN).update(
        state=ProgressState.RUNNING,
        percent=0,
        message="Started",
        worker=worker,
        heartbeat=now,
        last_updated=now,
    )
    if not claimed:
        raise TaskFailure(f"This work has already ended ({progress.get_state_display()}).")
    try:
        progress.state, progress.percent, progress.message = ProgressState.RUNNING, 0, "Started"
        progress.worker, progress.heartbeat = worker, now
        heartbeat = tasks_recovery.Heartbeat(progress.pk).start() if beating else None
        progress._heartbeat = heartbeat  # type: ignore[attr-defined]  # see Progress.update
        with audit_context(source=source, user=progress.owner):
            if atomic:
                with transaction.atomic():
                    result = work(progress)
            else:
                result = work(progress)
    except Exception as exc:
        _stop(progress)
        logger.exception("Task %s (%s) failed", progress.kind, progress.pk)
        _finish(progress, state=ProgressState.FAILED, error=_describe(exc))
        raise
    except BaseException as exc:
        _stop(progress)
        reason = describe_stop(exc)
        logger.error("Task %s (%s) stopped: %s", progress.kind, progress.pk, reason)
        _finish_stopped(progress, reason)
        raise
    _stop(progress)
    _finish(progress, state=ProgressState.SUCCEEDED, result=result)
    return result


def _heartbeat_wanted() -> bool:
    """A heartbeat in a real worker, and in a command running work itself (``progress_here``);
    none with the immediate backend (tests: the work runs in the caller's process)."""
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    return backend != IMMEDIATE_BACKEND and not backend.endswith("DummyBackend")


def _stop(progress: Progress) -> None:
    heartbeat = getattr(progress, "_heartbeat", None)
    progress._heartbeat = None  # type: ignore[attr-defined]
    if heartbeat is not None:
        heartbeat.stop()


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """While the work runs, SIGTERM and SIGINT end it as failed ("the worker was stopped").

    Only in the main thread, and only for a signal the process already handles (``db_worker``
    does: it finishes its current task, then exits; a command has Python's Ctrl-C handler,
    which raises ``KeyboardInterrupt`` - recorded the same way). That handler still runs
    first, so the worker exits after this task; the task itself stops at once instead of being
    cut short by the SIGKILL that follows a SIGTERM when it outlasts the supervisor's patience.
    The handlers are restored when the work ends.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def stop(signum: int, frame: FrameType | None) -> None:
        handler = previous.get(signum)
        for number, old in previous.items():
            signal.signal(number, old)
        if callable(handler):
            handler(signum, frame)
        raise WorkerStopped(signum)

    for number in (signal.SIGTERM, signal.SIGINT):
        handler = signal.getsignal(number)
        if callable(handler):
            previous[number] = handler
    for number in previous:
        signal.signal(number, stop)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def describe_stop(exc: BaseException) -> str:
    """The reason shown for work ended by something that is not an ``Exception``."""
    if isinstance(exc, WorkerStopped):
        name = signal.Signals(exc.signum).name
        return f"The worker was stopped ({name}) before this work finished; nothing was saved."
    if isinstance(exc, SystemExit):
        return (
            f"The worker was stopped (the process exited, code {exc.code}) before this work "
            "finished; nothing was saved."
        )
    if isinstance(exc, KeyboardInterrupt):
        return "The worker was interrupted (Ctrl-C) before this work finished; nothing was saved."
    return f"The work was interrupted ({type(exc).__name__}) before it finished; nothing was saved."


def _describe(exc: Exception) -> str:
    from tandem.core.errors import redact_paths  # no server path in what people read

    if isinstance(exc, TaskFailure):
        return redact_paths(str(exc))
    detail = redact_paths(str(exc)) or "no further detail"
    return f"The work stopped with an unexpected error ({type(exc).__name__}: {detail})."


def _finish(progress: Progress, *, state: str, result: Any = None, error: str = "") -> None:
    """Record how the work ended, unless it has ended already (the reaper was first)."""
    fields: dict[str, Any] = {"state": state, "error": error, "last_updated": timezone.now()}
    if state == ProgressState.SUCCEEDED:
        fields |= {
            "percent": 100,
            "message": "Done",
            "result": json.loads(json.dumps(result, default=str)),
        }
    else:
        fields["message"] = "Failed"
    if not Progress.objects.filter(pk=progress.pk, state__in=_OPEN).update(**fields):
        logger.warning("Progress %s had already ended; %s not recorded", progress.pk, state)
    progress.refresh_from_db()


def _finish_stopped(progress: Progress, reason: str) -> None:
    """Record work stopped by a BaseException; end what it was doing. The connection may be in
    a bad state after an interrupted query: on a database error it is replaced, once."""
    for attempt in (1, 2):
        try:
            _finish(progress, state=ProgressState.FAILED, error=reason)
            if progress.state == ProgressState.FAILED and progress.error == reason:
                with audit_context(source=AuditSource.SYSTEM):
                    replaced = tasks_recovery.abandon(progress, reason)
                if replaced:
                    Progress.objects.filter(pk=progress.pk).update(error=replaced)
                    progress.error = replaced
            return
        except DatabaseError:
            if attempt == 2:
                logger.exception("Could not record that %s stopped", progress.pk)
                return
            connection.close()


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
    heartbeat = getattr(progress, "_heartbeat", None)
    if heartbeat is not None:
        # On SQLite a write on this connection while the records' cursor is open fails once
        # the heartbeat has committed ("database is locked"): the bar goes through the
        # heartbeat's connection (as in tandem.core.exports_background.write_export).
        heartbeat.side_channel = True

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
