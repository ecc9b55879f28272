"""The progress plumbing: tasks report progress, succeed with a result or fail cleanly."""

from __future__ import annotations

import csv
import io
import signal

import pytest
from django.core.management import call_command
from django.test import override_settings

from tandem.core.choices import AuditSource, OrganizationKind, ProgressState
from tandem.core.models import ChangeLog, Organization, Progress
from tandem.core.tasks import (
    EXPORT_COLUMNS,
    TaskFailure,
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
