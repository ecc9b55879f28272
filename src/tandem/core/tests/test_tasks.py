"""The progress plumbing: tasks report progress, succeed with a result or fail cleanly."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from tandem.core import tasks_recovery
from tandem.core.choices import AuditSource, OrganizationKind, ProgressState
from tandem.core.models import ChangeLog, Organization, Progress
from tandem.core.tasks import (
    EXPORT_COLUMNS,
    TaskFailure,
    WorkerStopped,
    export_audit_csv,
    export_path,
    run_with_progress,
    start_with_progress,
)
from tandem.core.tasks_compat import task

pytestmark = pytest.mark.django_db


# Module-level tasks: the database backend finds a task by its import path.
@task()
def count_to(progress_id: str, steps: int) -> dict:
    def work(progress: Progress) -> dict:
        for step in range(1, steps + 1):
            progress.update(percent=step * 100 // steps, message=f"Step {step} of {steps}")
        return {"steps": steps}

    return run_with_progress(progress_id, work)


@task()
def create_then_fail(progress_id: str, name: str) -> None:
    def work(progress: Progress) -> None:
        Organization.objects.create(name=name, kind=OrganizationKind.VENDOR)
        progress.update(percent=50, message="Half way")
        raise RuntimeError("the vendor feed went away")

    run_with_progress(progress_id, work)


@task()
def create_organization(progress_id: str, name: str) -> dict:
    def work(progress: Progress) -> dict:
        organization = Organization.objects.create(name=name, kind=OrganizationKind.VENDOR)
        return {"organization": organization.pk}

    return run_with_progress(progress_id, work)


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_a_task_reports_progress_and_succeeds(world):
    progress = start_with_progress(
        count_to, owner=world.it_lead, label="Counting", kind="count", steps=4
    )
    assert progress.state == ProgressState.SUCCEEDED
    assert progress.percent == 100
    assert progress.result == {"steps": 4}
    assert progress.error == ""
    assert progress.task_id
    assert progress.owner == world.it_lead


def test_a_failing_task_records_the_error_and_writes_nothing(world):
    progress = start_with_progress(
        create_then_fail, owner=world.it_lead, label="Doomed", kind="doomed", name="Ghost IT"
    )
    assert progress.state == ProgressState.FAILED
    assert "RuntimeError" in progress.error
    assert "the vendor feed went away" in progress.error
    assert progress.result is None
    assert not Organization.objects.filter(name="Ghost IT").exists()
    assert not ChangeLog.objects.filter(object_repr="Ghost IT").exists()


def test_a_task_failure_meant_for_people_is_shown_as_is(world):
    def work(progress: Progress) -> None:
        raise TaskFailure("Row 3, column 'opened': not a date.")

    progress = Progress.objects.create(owner=world.it_lead, label="Import", kind="import")
    with pytest.raises(TaskFailure):
        run_with_progress(str(progress.pk), work)
    progress.refresh_from_db()
    assert progress.state == ProgressState.FAILED
    assert progress.error == "Row 3, column 'opened': not a date."


def test_task_writes_are_attributed_to_the_owner(world):
    progress = start_with_progress(
        create_organization, owner=world.it_lead, label="Add", kind="add", name="Task Vendor"
    )
    assert progress.state == ProgressState.SUCCEEDED
    organization = Organization.objects.get(name="Task Vendor")
    record = ChangeLog.objects.get(object_id=str(organization.pk), object_repr="Task Vendor")
    assert record.source == AuditSource.TASK
    assert record.user == world.it_lead


def _export(world, user, engagement) -> tuple[Progress, list[dict[str, str]]]:
    progress = start_with_progress(
        export_audit_csv,
        owner=user,
        label="Audit",
        kind="export_audit",
        engagement=engagement,
        engagement_id=engagement.pk,
    )
    assert progress.state == ProgressState.SUCCEEDED, progress.error
    path = export_path(progress.result["file_name"])
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    return progress, rows


def test_the_export_holds_exactly_what_the_owner_may_see(world, media):
    progress, rows = _export(world, world.vendor_lead, world.e1)
    visible = ChangeLog.objects.restrict(world.vendor_lead).filter(engagement_id=world.e1.pk)
    assert {(r["object_type"], r["object_id"], r["action"]) for r in rows} == {
        (f"{c.content_type.app_label}.{c.content_type.model}", c.object_id, c.action)
        for c in visible
    }
    assert len(rows) == visible.count() == progress.result["rows"]
    # The rival vendor's records in the same engagement are not in Acme's export...
    assert "Crest IT" not in {r["object"] for r in rows}
    assert not any("crest" in r["object"].lower() for r in rows)
    # ...but the client sees them, and nothing from the other engagement.
    _, client_rows = _export(world, world.it_lead, world.e1)
    assert len(client_rows) > len(rows)
    assert any("Crest IT" in r["object"] for r in client_rows)
    assert not any("Beta" in r["object"] or "Bolt" in r["object"] for r in client_rows)
    assert list(client_rows[0]) == EXPORT_COLUMNS


def test_the_export_reports_progress_in_chunks(world, media, monkeypatch):
    monkeypatch.setattr("tandem.core.tasks.EXPORT_CHUNK", 2)
    seen: list[int] = []
    original = Progress.update

    def spy(self, *, percent=None, message=None):
        if percent:
            seen.append(percent)
        original(self, percent=percent, message=message)

    monkeypatch.setattr(Progress, "update", spy)
    progress, rows = _export(world, world.it_lead, world.e1)
    assert len(rows) >= 4
    assert seen == sorted(seen) and len(seen) == len(rows) // 2
    assert progress.percent == 100


def test_the_export_leaves_no_file_when_it_fails(world, media, monkeypatch):
    def boom(record):
        raise RuntimeError("disk full")

    monkeypatch.setattr("tandem.core.tasks._audit_row", boom)
    progress = start_with_progress(
        export_audit_csv,
        owner=world.it_lead,
        label="Audit",
        kind="export_audit",
        engagement_id=world.e1.pk,
    )
    assert progress.state == ProgressState.FAILED
    assert "disk full" in progress.error
    assert list((media / "exports").iterdir()) == []


def test_the_export_refuses_an_owner_without_access(world, media):
    progress = start_with_progress(
        export_audit_csv,
        owner=world.outsider,
        label="Audit",
        kind="export_audit",
        engagement_id=world.e1.pk,
    )
    assert progress.state == ProgressState.FAILED
    assert "no longer have access" in progress.error


def test_export_file_names_stay_in_the_export_folder():
    for bad in ["", "../settings.py", "a/b.csv", ".export-123.csv"]:
        with pytest.raises(ValueError):
            export_path(bad)


@pytest.fixture
def keep_signal_handlers():
    """``db_worker`` installs its own SIGINT/SIGTERM handlers: give pytest its own back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_runs_the_task_in_a_worker(world, media, keep_signal_handlers):
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        progress = start_with_progress(
            count_to, owner=world.it_lead, label="Counting", kind="count", steps=3
        )
        assert progress.state == ProgressState.QUEUED
        assert progress.task_id
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    progress.refresh_from_db()
    assert progress.state == ProgressState.SUCCEEDED
    assert progress.percent == 100
    assert progress.result == {"steps": 3}


# --- recovery: what is recorded, the heartbeat, BaseException, SIGTERM ------------------------


def test_start_with_progress_records_the_task_and_its_arguments(world):
    progress = start_with_progress(
        count_to, owner=world.it_lead, label="Counting", kind="count", steps=2
    )
    assert progress.task_name == "tandem.core.tests.test_tasks.count_to"
    assert progress.arguments == {"steps": 2}
    assert progress.worker == tasks_recovery.worker_identity()
    assert progress.heartbeat is not None


@pytest.mark.parametrize(
    ("stop", "words"),
    [
        (SystemExit(1), "The worker was stopped (the process exited, code 1)"),
        (KeyboardInterrupt(), "The worker was interrupted (Ctrl-C)"),
        (GeneratorExit(), "The work was interrupted (GeneratorExit)"),
    ],
)
def test_a_base_exception_is_recorded_as_failed_and_raised_again(world, stop, words):
    def work(progress: Progress) -> None:
        Organization.objects.create(name="Half done", kind=OrganizationKind.VENDOR)
        progress.update(percent=30, message="Writing")
        raise stop

    progress = Progress.objects.create(owner=world.it_lead, label="Work", kind="work")
    with pytest.raises(type(stop)):
        run_with_progress(str(progress.pk), work)
    progress.refresh_from_db()
    assert progress.state == ProgressState.FAILED
    assert words in progress.error and "nothing was saved" in progress.error
    assert progress.message == "Failed"
    assert not Organization.objects.filter(name="Half done").exists()


def test_work_that_has_ended_is_not_run_again(world):
    progress = Progress.objects.create(
        owner=world.it_lead, label="Work", kind="work", state=ProgressState.FAILED, error="Dead."
    )
    ran = []
    with pytest.raises(TaskFailure, match="already ended"):
        run_with_progress(str(progress.pk), ran.append)
    progress.refresh_from_db()
    assert ran == [] and progress.error == "Dead."


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_on_its_own_connection(world, settings):
    progress = Progress.objects.create(
        owner=world.it_lead, label="Work", kind="work", state=ProgressState.RUNNING
    )
    assert progress.heartbeat is None
    beat = tasks_recovery.Heartbeat(progress.pk, interval=0.05).start()
    deadline = time.monotonic() + 10
    while beat.beats < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    beat.stop()
    assert beat.beats >= 2
    assert not beat._thread.is_alive()
    progress.refresh_from_db()
    assert progress.heartbeat is not None
    # Ended work is left alone: a late beat never brings it back.
    Progress.objects.filter(pk=progress.pk).update(state=ProgressState.FAILED)
    assert tasks_recovery.Heartbeat(progress.pk).beat()
    assert Progress.objects.get(pk=progress.pk).state == ProgressState.FAILED


@pytest.mark.django_db(transaction=True)
def test_a_worker_beats_while_the_work_runs(world, settings, monkeypatch, keep_signal_handlers):
    settings.TANDEM_TASK_LEASE_SECONDS = 2  # a beat every half second
    monkeypatch.setattr("tandem.core.tasks._heartbeat_wanted", lambda: True)
    seen = {}

    def work(progress: Progress) -> dict:
        seen["claimed"] = Progress.objects.get(pk=progress.pk).heartbeat
        time.sleep(1.3)
        seen["later"] = Progress.objects.get(pk=progress.pk).heartbeat
        return {"ok": True}

    progress = Progress.objects.create(owner=world.it_lead, label="Slow", kind="work")
    run_with_progress(str(progress.pk), work, atomic=False)
    assert seen["claimed"] is not None
    assert seen["later"] > seen["claimed"]
    progress.refresh_from_db()
    assert progress.state == ProgressState.SUCCEEDED
    assert not [t for t in threading.enumerate() if t.name.startswith("tandem-heartbeat")]


@pytest.mark.django_db(transaction=True)
def test_sigterm_to_the_worker_ends_the_task_as_failed(
    world, settings, monkeypatch, keep_signal_handlers
):
    monkeypatch.setattr("tandem.core.tasks._heartbeat_wanted", lambda: True)
    told = []
    signal.signal(signal.SIGTERM, lambda signum, frame: told.append(signum))  # db_worker's

    def work(progress: Progress) -> None:
        Organization.objects.create(name="Never kept", kind=OrganizationKind.VENDOR)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # interrupted by the signal's exception

    progress = Progress.objects.create(owner=world.it_lead, label="Stopped", kind="work")
    with pytest.raises(WorkerStopped):
        run_with_progress(str(progress.pk), work)
    progress.refresh_from_db()
    assert progress.state == ProgressState.FAILED
    assert progress.error.startswith("The worker was stopped (SIGTERM)")
    assert told == [signal.SIGTERM]  # the worker itself heard it too (it exits after the task)
    assert not Organization.objects.filter(name="Never kept").exists()
    assert signal.getsignal(signal.SIGTERM) is not None


# --- the reaper -------------------------------------------------------------------------------


def _running(owner, *, heartbeat, worker="elsewhere.example:4242", **fields) -> Progress:
    progress = Progress.objects.create(
        owner=owner, label="Work", kind="work", state=ProgressState.RUNNING, worker=worker, **fields
    )
    Progress.objects.filter(pk=progress.pk).update(heartbeat=heartbeat, last_updated=heartbeat)
    progress.refresh_from_db()
    return progress


def test_the_reaper_fails_work_past_its_lease_once(world, settings):
    settings.TANDEM_TASK_LEASE_SECONDS = 60
    now = timezone.now()
    dead = _running(world.it_lead, heartbeat=now - timedelta(seconds=90))
    alive = _running(world.it_lead, heartbeat=now - timedelta(seconds=20))

    assert [p.pk for p in tasks_recovery.reap_dead_work()] == [dead.pk]
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.state == ProgressState.FAILED
    stamp = (now - timedelta(seconds=90)).astimezone(UTC).strftime("%H:%M:%S")
    assert dead.error == (
        f"The worker running this stopped (no sign of life since {stamp} UTC); nothing was saved."
    )
    assert alive.state == ProgressState.RUNNING
    # Idempotent: nothing more to do, and the failure stays as it was.
    assert tasks_recovery.reap_dead_work() == []
    assert Progress.objects.get(pk=dead.pk).error == dead.error


def test_the_lease_is_a_setting(world, settings):
    heartbeat = timezone.now() - timedelta(seconds=10)
    progress = _running(world.it_lead, heartbeat=heartbeat)
    settings.TANDEM_TASK_LEASE_SECONDS = 60
    assert tasks_recovery.reap_dead_work() == []
    settings.TANDEM_TASK_LEASE_SECONDS = 5
    assert [p.pk for p in tasks_recovery.reap_dead_work()] == [progress.pk]


def test_a_live_worker_on_this_machine_is_never_taken_for_dead(world, settings):
    """On SQLite a long write holds the heartbeat back: a live worker process keeps its work."""
    settings.TANDEM_TASK_LEASE_SECONDS = 2
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "db_worker"])
    try:
        time.sleep(0.2)
        identity = f"{socket.gethostname()}:{worker.pid}"
        progress = _running(world.it_lead, heartbeat=timezone.now(), worker=identity)
        later = timezone.now() + timedelta(seconds=30)  # silent for 30 s, over the lease
        assert tasks_recovery.reap_dead_work(now=later) == []
    finally:
        worker.kill()
        worker.wait()
    # Once the process is gone the lease decides; a pid reused by a newer process too.
    later = timezone.now() + timedelta(seconds=30)
    assert [p.pk for p in tasks_recovery.reap_dead_work(now=later)] == [progress.pk]


def test_the_page_of_dead_work_says_so(world, client_for, settings):
    settings.TANDEM_TASK_LEASE_SECONDS = 60
    progress = _running(world.it_lead, heartbeat=timezone.now() - timedelta(minutes=5))
    html = client_for(world.it_lead).get(progress.get_absolute_url()).content.decode()
    assert "The worker running this stopped" in html
    assert "hx-trigger" not in html


@pytest.mark.django_db(transaction=True)
def test_queued_work_a_dead_worker_claimed_is_failed(world, settings, media):
    from django_tasks_db.models import DBTaskResult

    settings.TANDEM_TASK_LEASE_SECONDS = 60
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        claimed = start_with_progress(
            count_to, owner=world.it_lead, label="Claimed", kind="count", steps=1
        )
        waiting = start_with_progress(
            count_to, owner=world.it_lead, label="Waiting", kind="count", steps=1
        )
        long_ago = timezone.now() - timedelta(minutes=5)
        Progress.objects.filter(pk__in=[claimed.pk, waiting.pk]).update(created=long_ago)
        DBTaskResult.objects.filter(id=claimed.task_id).update(
            status="RUNNING", started_at=long_ago, worker_ids=["gone"]
        )
        ended = tasks_recovery.reap_dead_work()
    assert [p.pk for p in ended] == [claimed.pk]
    claimed.refresh_from_db()
    assert claimed.state == ProgressState.FAILED
    assert claimed.error.startswith("The worker that took this work stopped before starting it")
    assert DBTaskResult.objects.get(id=claimed.task_id).status == "FAILED"
    # Work merely waiting for a worker (none running) is not dead.
    assert Progress.objects.get(pk=waiting.pk).state == ProgressState.QUEUED


def test_reap_tasks_command(world, settings):
    settings.TANDEM_TASK_LEASE_SECONDS = 60
    progress = _running(world.it_lead, heartbeat=timezone.now() - timedelta(minutes=2))
    out = io.StringIO()
    call_command("reap_tasks", "--dry-run", stdout=out)
    assert "1 piece of dead work found" in out.getvalue()
    assert Progress.objects.get(pk=progress.pk).state == ProgressState.RUNNING
    out = io.StringIO()
    call_command("reap_tasks", stdout=out)
    assert f"Failed {progress.pk}" in out.getvalue()
    assert Progress.objects.get(pk=progress.pk).state == ProgressState.FAILED


def test_reported_progress_goes_through_the_heartbeat_where_it_can(world):
    """On PostgreSQL the work's progress is written on the heartbeat's own connection, so it
    shows during the work's transaction and that transaction never locks the row."""
    progress = Progress.objects.create(owner=world.it_lead, label="Work", kind="work")
    beat = tasks_recovery.Heartbeat(progress.pk)
    beat.side_channel = True  # as on PostgreSQL (SQLite writes it in place)
    progress._heartbeat = beat
    progress.update(percent=40, message="Writing tickets")
    assert Progress.objects.get(pk=progress.pk).percent == 0  # not written by the work itself
    assert beat.beat()
    stored = Progress.objects.get(pk=progress.pk)
    assert (stored.state, stored.percent, stored.message) == (
        ProgressState.RUNNING,
        40,
        "Writing tickets",
    )
    assert stored.heartbeat is not None


def test_a_late_report_never_brings_ended_work_back(world):
    progress = Progress.objects.create(
        owner=world.it_lead, label="Work", kind="work", state=ProgressState.SUCCEEDED, percent=100
    )
    progress.update(percent=50, message="Still reading")
    stored = Progress.objects.get(pk=progress.pk)
    assert (stored.state, stored.percent) == (ProgressState.SUCCEEDED, 100)


def test_a_live_worker_that_moved_on_does_not_keep_silent_work(world, settings, media):
    """A worker process alive on this machine keeps its work only while the queue says that
    task is still running: once the task has ended, silent work is dead."""
    from django_tasks_db.models import DBTaskResult

    settings.TANDEM_TASK_LEASE_SECONDS = 2
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "db_worker"])
    try:
        time.sleep(0.2)
        with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
            progress = start_with_progress(
                count_to, owner=world.it_lead, label="Counting", kind="count", steps=1
            )
            now = timezone.now()
            Progress.objects.filter(pk=progress.pk).update(
                state=ProgressState.RUNNING,
                worker=f"{socket.gethostname()}:{worker.pid}",
                heartbeat=now,
                last_updated=now,
            )
            task_row = DBTaskResult.objects.filter(id=progress.task_id)
            task_row.update(status="RUNNING", started_at=now)
            later = now + timedelta(seconds=30)
            assert tasks_recovery.reap_dead_work(now=later) == []
            task_row.update(status="SUCCESSFUL", finished_at=now)
            assert [p.pk for p in tasks_recovery.reap_dead_work(now=later)] == [progress.pk]
    finally:
        worker.kill()
        worker.wait()
