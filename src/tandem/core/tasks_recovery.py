"""Background work that recovers: the heartbeat of running work, the reaper of dead work, and
"Try again".

A worker can die at any moment (SIGKILL, the machine restarting, out of memory) and leave its
``Progress`` "running" for ever. Three pieces prevent that:

- **the heartbeat**: while ``run_with_progress`` runs, a daemon thread with its *own* database
  connection writes ``Progress.heartbeat`` every few seconds, outside the work's transaction
  (a write inside it would show only at commit). On PostgreSQL the progress the work reports
  goes through that connection too, so the bar moves even while the work holds a transaction
  open and that transaction never locks the progress row. SQLite has one writer at a time: the
  beat waits while the work writes, so the work's own progress writes carry a fresh heartbeat
  that commits with it, and a worker on this machine whose process is alive is never taken
  for dead;
- **the lease**: running work whose heartbeat is older than ``TANDEM_TASK_LEASE_SECONDS``
  (60 by default), and queued work whose task a worker claimed but never started (or whose
  task ended without touching it), is dead. ``reap_dead_work`` marks it failed with the
  reason, marks the task row of django-tasks-db failed, and lets the kind of work end what it
  was doing (``Recovery.abandoned``: the SLA run failed, the import recorded as failed and its
  staged files removed). It runs before any work is started, when a progress page is polled,
  at the start of each task in a worker, and from ``tandem reap_tasks``;
- **retry**: ``retry_work`` starts failed work again - the same task with the same arguments
  under a new ``Progress`` by default, or what the kind of work registered instead.

Kinds of work register their ``Recovery`` beside their task (``register_recovery``); the
registry is keyed by the task's dotted path, stored on the progress as ``task_name``, so core
imports no app: it imports the task's module when it needs it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from tandem.core.choices import ProgressState
from tandem.core.models import Progress, User
from tandem.core.services import NotAllowed

logger = logging.getLogger(__name__)

#: Without a setting: running work silent for this long is dead.
DEFAULT_LEASE_SECONDS = 60
#: The shortest lease accepted (a heartbeat needs a few beats within one).
MIN_LEASE_SECONDS = 2

DEAD = (
    "The worker running this stopped (no sign of life since {since:%H:%M:%S} UTC); "
    "nothing was saved."
)
NEVER_STARTED = (
    "The worker that took this work stopped before starting it (claimed at {since:%H:%M:%S} "
    "UTC); nothing was saved."
)
ENDED_UNSTARTED = "The work could not start ({error}); nothing was saved."
LOST = "The task of this work is no longer in the queue; nothing was saved."

_OPEN = (ProgressState.QUEUED, ProgressState.RUNNING)


def lease_seconds() -> int:
    """``TANDEM_TASK_LEASE_SECONDS`` from the settings or the environment (default 60)."""
    value = getattr(settings, "TANDEM_TASK_LEASE_SECONDS", None)
    if value is None:
        value = os.environ.get("TANDEM_TASK_LEASE_SECONDS", "") or DEFAULT_LEASE_SECONDS
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        logger.warning("TANDEM_TASK_LEASE_SECONDS=%r is not a whole number: using 60", value)
        seconds = DEFAULT_LEASE_SECONDS
    return max(MIN_LEASE_SECONDS, seconds)


def beat_interval() -> float:
    """How often the heartbeat writes: four beats per lease, at most every five seconds."""
    return max(0.5, min(5.0, lease_seconds() / 4))


def worker_identity() -> str:
    """``host:pid`` of this process, as ``Progress.worker`` records it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


# The heartbeat -------------------------------------------------------------------------------


class Heartbeat:
    """A daemon thread that keeps one running ``Progress`` alive, on its own connection.

    ``report`` hands it the progress the work reports (PostgreSQL only; see the module's
    docstring); ``stop`` ends it and closes its connection.
    """

    #: The least time between two writes of reported progress (a busy loop reports often).
    MIN_GAP = 0.25

    def __init__(self, progress_id: Any, *, interval: float | None = None) -> None:
        self.progress_id = progress_id
        self.interval = interval if interval is not None else beat_interval()
        self.side_channel = connection.vendor != "sqlite"
        self.beats = 0
        self._pending: tuple[int, str] | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"tandem-heartbeat-{progress_id}", daemon=True
        )

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def report(self, percent: int, message: str) -> bool:
        """Take ``(percent, message)`` to write on the side connection; False: write it yourself."""
        if not self.side_channel or self._stopping.is_set():
            return False
        with self._lock:
            self._pending = (percent, message)
        self._wake.set()
        return True

    def stop(self, timeout: float = 30.0) -> None:
        if not self._thread.is_alive():
            return
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.wait(self.interval)
                self._wake.clear()
                if self._stopping.is_set():
                    break
                try:
                    self.beat()
                except Exception:  # the thread must outlive any one failed beat
                    logger.exception("Heartbeat of %s failed", self.progress_id)
                self._stopping.wait(self.MIN_GAP)
        finally:
            # This thread's connections only (they are per thread): nothing may leak.
            connections.close_all()

    def beat(self) -> bool:
        """One short UPDATE: the heartbeat, and the progress reported since the last one."""
        with self._lock:
            pending, self._pending = self._pending, None
        now = timezone.now()
        fields: dict[str, Any] = {"heartbeat": now, "last_updated": now}
        if pending is not None:
            fields |= {"state": ProgressState.RUNNING, "percent": pending[0], "message": pending[1]}
        try:
            Progress.objects.filter(pk=self.progress_id, state__in=_OPEN).update(**fields)
        except DatabaseError as exc:  # SQLite busy past its timeout, a dropped connection...
            logger.info("Heartbeat of %s not written: %s", self.progress_id, exc)
            connections.close_all()  # this thread's: the next beat connects afresh
            with self._lock:
                if self._pending is None:
                    self._pending = pending
            return False
        self.beats += 1
        return True


# Is a worker on this machine alive? -----------------------------------------------------------

#: What the command line of a process that runs work holds: the task worker, and the commands
#: that run work themselves in the foreground (``tandem.core.tasks.progress_here``).
WORK_COMMANDS = (b"db_worker", b"run_sla")


def alive_here(worker: str, since: datetime | None) -> bool:
    """True when ``worker`` (``host:pid``) is a worker process of this machine that is still
    running and was started before ``since`` (its last sign of life).

    Only a guard against taking live work for dead (on SQLite a long write holds back the
    heartbeat); it never declares work dead: a pid may belong to another container.
    """
    host, _, pid_text = worker.rpartition(":")
    if host != socket.gethostname()[:100] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except PermissionError:
        pass  # it exists, as another user
    except OSError:
        return False
    proc = Path("/proc") / str(pid)
    if not Path("/proc/self/stat").exists():
        return True  # no /proc (macOS): the pid exists, that is all we can tell
    try:
        stat = (proc / "stat").read_text()
        command = (proc / "cmdline").read_bytes()
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (OSError, StopIteration, ValueError, IndexError):
        return False
    fields = stat.rpartition(")")[2].split()
    if not fields or fields[0] in {"Z", "X"}:  # a zombie is dead, whatever kill() says
        return False
    if not any(name in command for name in WORK_COMMANDS):
        return False  # not a worker: the pid was reused, or belongs to another namespace
    started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return since is None or started <= since.timestamp() + 1


# The registry of kinds of work ----------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why failed work cannot simply be started again, and where to go instead."""

    message: str
    url: str = ""
    link_text: str = ""


class RetryRefused(Exception):
    """Failed work that cannot be started again; ``refusal`` says why and where to go."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


@dataclass(frozen=True)
class Recovery:
    """How one kind of work recovers. Every hook is optional.

    - ``abandoned(progress, reason)``: the work died (worker gone, stopped, a BaseException)
      without ending what it was doing: end it (mark the domain object failed, remove files).
      Runs inside the transaction that marks the progress failed; may return a replacement
      for ``reason`` (e.g. when the work had in fact stored its result);
    - ``may_retry(progress, user)``: who besides the owner may start it again;
    - ``refusal(progress)``: why it cannot be started again (``None``: it can);
    - ``retry(progress, user)``: start it again; returns the URL to follow it. Default: the
      same task with the same arguments under a new progress, owned by ``user``.
    """

    abandoned: Callable[[Progress, str], str | None] | None = None
    may_retry: Callable[[Progress, Any], bool] | None = None
    refusal: Callable[[Progress], Refusal | None] | None = None
    retry: Callable[[Progress, Any], str] | None = None


_RECOVERIES: dict[str, Recovery] = {}
_DEFAULT = Recovery()


def register_recovery(task_: Any, recovery: Recovery) -> None:
    """Register how the work of ``task_`` recovers (call beside the task's definition)."""
    _RECOVERIES[task_.module_path] = recovery


def task_for(progress: Progress) -> Any:
    """The task that ran ``progress``, or None (none recorded, or no longer in the code)."""
    name = progress.task_name
    if not name or not name.startswith("tandem."):
        return None
    try:
        return import_string(name)
    except ImportError:
        return None


def recovery_for(progress: Progress) -> Recovery:
    """The registered ``Recovery`` of the progress's task (importing its module registers it)."""
    if progress.task_name not in _RECOVERIES:
        task_for(progress)
    return _RECOVERIES.get(progress.task_name, _DEFAULT)


# The reaper -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadWork:
    progress: Progress
    reason: str


def find_dead_work(*, now: datetime | None = None) -> list[DeadWork]:
    """Running work past its lease, and queued work a dead or finished task will never start."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=lease_seconds())
    dead: list[DeadWork] = []
    running = Progress.objects.filter(state=ProgressState.RUNNING).filter(
        Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True, last_updated__lt=cutoff)
    )
    for progress in running:
        since = progress.heartbeat or progress.last_updated
        if not alive_here(progress.worker, since) or _task_ended(progress):
            dead.append(DeadWork(progress, DEAD.format(since=since.astimezone(UTC))))
    dead.extend(_dead_queued(cutoff))
    return dead


def _task_ended(progress: Progress) -> bool:
    """Whether the queue says the task of this (silent) work has ended: its worker process
    may live on, running other tasks, but this work stopped without recording how."""
    if not progress.task_id or not _database_backend():
        return False
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        id=progress.task_id, status__in=["FAILED", "SUCCESSFUL"]
    ).exists()


def _dead_queued(cutoff: datetime) -> list[DeadWork]:
    if not _database_backend():
        return []  # the immediate backend (tests) keeps no task rows
    from django_tasks_db.models import DBTaskResult

    queued = list(
        Progress.objects.filter(state=ProgressState.QUEUED, created__lt=cutoff).exclude(task_id="")
    )
    if not queued:
        return []
    tasks = {
        str(row.id): row
        for row in DBTaskResult.objects.filter(id__in=[p.task_id for p in queued]).only(
            "id", "status", "started_at", "exception_class_path"
        )
    }
    dead = []
    for progress in queued:
        row = tasks.get(progress.task_id)
        if row is None:
            dead.append(DeadWork(progress, LOST))
        elif row.status == "RUNNING" and row.started_at and row.started_at < cutoff:
            since = row.started_at.astimezone(UTC)
            dead.append(DeadWork(progress, NEVER_STARTED.format(since=since)))
        elif row.status in {"FAILED", "SUCCESSFUL"}:
            error = row.exception_class_path.rpartition(".")[2] or "it ended without a word"
            dead.append(DeadWork(progress, ENDED_UNSTARTED.format(error=error)))
    return dead


def reap_dead_work(*, now: datetime | None = None) -> list[Progress]:
    """Mark every piece of dead work failed, with its reason, and end what it was doing.

    Idempotent and safe to run from several processes at once: each progress is ended by a
    conditional UPDATE that only one of them wins. Never raises for a busy database (SQLite
    held by a long write): that progress is left for the next round.
    """
    try:
        candidates = find_dead_work(now=now)
    except DatabaseError as exc:
        logger.warning("Could not look for dead background work: %s", exc)
        return []
    ended = []
    for item in candidates:
        if end_work(item.progress, item.reason, now=now, check_lease=True):
            ended.append(item.progress)
    return ended


def end_work(
    progress: Progress, reason: str, *, now: datetime | None = None, check_lease: bool = False
) -> bool:
    """Mark ``progress`` failed with ``reason`` unless it has ended meanwhile, then let its kind
    of work end what it was doing. Returns whether this call ended it."""
    now = now or timezone.now()
    try:
        with transaction.atomic():
            # Under the write lock (BEGIN IMMEDIATE on SQLite): the state, and for running work
            # the heartbeat, are checked again - a worker that was only held back by a long
            # write has beaten meanwhile and is left alone.
            current = Progress.objects.filter(pk=progress.pk, state=progress.state)
            if check_lease and progress.state == ProgressState.RUNNING:
                cutoff = now - timedelta(seconds=lease_seconds())
                current = current.filter(
                    Q(heartbeat__lt=cutoff) | Q(heartbeat__isnull=True, last_updated__lt=cutoff)
                )
            if not current.update(
                state=ProgressState.FAILED, message="Failed", error=reason, last_updated=now
            ):
                return False
            progress.state, progress.error = ProgressState.FAILED, reason
            progress.message = "Failed"
            replaced = _abandon(progress, reason)
            if replaced:
                Progress.objects.filter(pk=progress.pk).update(error=replaced)
                progress.error = replaced
            _fail_task_row(progress, progress.error)
    except DatabaseError as exc:
        logger.warning("Could not mark %s failed (%s): left for the next round", progress.pk, exc)
        return False
    logger.warning("Background work %s (%s) failed: %s", progress.pk, progress.kind, progress.error)
    return True


def _abandon(progress: Progress, reason: str) -> str | None:
    hook = recovery_for(progress).abandoned
    if hook is None:
        return None
    try:
        with transaction.atomic():  # a savepoint: a failing hook leaves the progress failed
            return hook(progress, reason)
    except Exception:
        logger.exception("Ending the work of %s (%s) failed", progress.pk, progress.task_name)
        return None


def abandon(progress: Progress, reason: str) -> str | None:
    """Let the kind of work end what it was doing after it died in this process."""
    return _abandon(progress, reason)


def _database_backend() -> bool:
    """Whether tasks go through django-tasks-db (their rows say who claimed what)."""
    backend = settings.TASKS.get("default", {}).get("BACKEND", "")
    return str(backend).startswith("django_tasks_db.")


def _fail_task_row(progress: Progress, reason: str) -> None:
    """The task row of django-tasks-db says failed too (it stays "running" after a SIGKILL)."""
    if not progress.task_id or not _database_backend():
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=progress.task_id, status__in=["READY", "RUNNING"]).update(
        status="FAILED",
        finished_at=timezone.now(),
        exception_class_path="tandem.core.tasks_recovery.WorkerLost",
        traceback=reason,
    )


# Trying again ---------------------------------------------------------------------------------


def may_retry(progress: Progress, user: Any) -> bool:
    """The owner, or whoever the kind of work allows (e.g. anyone who may start SLA runs)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if progress.owner_id == user.pk:
        return True
    hook = recovery_for(progress).may_retry
    return bool(hook and hook(progress, user))


def retry_refusal(progress: Progress) -> Refusal | None:
    """Why this failed work cannot be started again, or None."""
    if progress.state != ProgressState.FAILED:
        return Refusal(f"Only failed work can be tried again; this is {progress.state}.")
    if task_for(progress) is None:
        return Refusal("This work cannot be started again from here: start it anew.")
    hook = recovery_for(progress).refusal
    return hook(progress) if hook else None


def retry_work(progress: Progress, user: User) -> str:
    """Start failed work again as ``user``; return the URL that follows it.

    ``NotAllowed`` when ``user`` may not; ``RetryRefused`` when it cannot be (not failed, or
    what it needs is gone: the message and link say what to do instead).
    """
    if not may_retry(progress, user):
        raise NotAllowed("Only the person who started this work, or someone who may do it, can.")
    refusal = retry_refusal(progress)
    if refusal is not None:
        raise RetryRefused(refusal)
    hook = recovery_for(progress).retry
    if hook is not None:
        return hook(progress, user)
    return start_again(progress, user).get_absolute_url()


def start_again(progress: Progress, user: User) -> Progress:
    """The same task with the same arguments, under a new progress owned by ``user``."""
    from tandem.core.tasks import start_with_progress

    arguments = {k: v for k, v in (progress.arguments or {}).items() if k != "progress_id"}
    return start_with_progress(
        task_for(progress),
        owner=user,
        label=progress.label,
        kind=progress.kind,
        engagement=progress.engagement,
        owner_only=progress.owner_only,
        **arguments,
    )
