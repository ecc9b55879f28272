"""Background work of the service app that recovers: a dead SLA run frees its engagement at
once, a dead import is recorded as failed and its staged files removed, a SystemExit in a run
is recorded, and "Try again" starts a new run for those who may."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tandem.core.choices import AuditAction, AuditSource, ProgressState
from tandem.core.models import ChangeLog, Progress
from tandem.core.tasks_recovery import reap_dead_work
from tandem.service import sla_runs
from tandem.service.choices import ImportStatus, RunStatus
from tandem.service.imports import Staged, stage_upload
from tandem.service.models import ImportBatch, SlaRun
from tandem.service.tasks import import_staged
from tandem.service.tasks_sla import SLA_RUN_KIND, run_sla
from tandem.service.tests.test_sla_runs import AS_OF, data  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def media(tmp_path, settings) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.TANDEM_TASK_LEASE_SECONDS = 60
    return tmp_path


def _dead(progress: Progress) -> Progress:
    """Make ``progress`` look like the work of a worker that died five minutes ago."""
    then = timezone.now() - LONG_AGO
    Progress.objects.filter(pk=progress.pk).update(
        state=ProgressState.RUNNING, worker="gone.example:99", heartbeat=then, last_updated=then
    )
    progress.refresh_from_db()
    return progress


def _dead_run(world) -> tuple[SlaRun, Progress]:
    run = sla_runs.create_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    progress = Progress.objects.create(
        owner=world.it_lead,
        label=f"SLA run of {world.e1.name}",
        kind=SLA_RUN_KIND,
        engagement=world.e1,
        owner_only=False,
        task_name=run_sla.module_path,
        arguments={"run_id": run.pk},
    )
    SlaRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, progress=progress, started_at=timezone.now() - LONG_AGO
    )
    run.refresh_from_db()
    return run, _dead(progress)


def _history(obj) -> list[ChangeLog]:
    return list(
        ChangeLog.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).order_by("pk")
    )


def test_a_dead_sla_run_fails_and_a_new_run_can_start_at_once(world, data) -> None:  # noqa: F811
    run, progress = _dead_run(world)
    # Before: the old rule would have blocked for an hour; the reaper runs first now.
    new = sla_runs.create_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    run.refresh_from_db()
    progress.refresh_from_db()
    assert new.status == RunStatus.QUEUED
    assert run.status == RunStatus.FAILED
    assert run.error.startswith("The worker running this stopped (no sign of life since ")
    assert run.finished_at is not None
    assert progress.state == ProgressState.FAILED and progress.error == run.error
    record = _history(run)[-1]
    assert (record.action, record.source, record.user, record.user_name) == (
        AuditAction.UPDATE,
        AuditSource.SYSTEM,
        None,
        "system",
    )
    assert record.postchange_data["status"] == RunStatus.FAILED
    # Idempotent: reaping again changes nothing and records nothing more.
    assert reap_dead_work() == []
    assert len(_history(run)) == 2  # queued, failed


def test_a_live_run_still_blocks_and_a_double_click_too(world, data) -> None:  # noqa: F811
    run, progress = _dead_run(world)
    Progress.objects.filter(pk=progress.pk).update(heartbeat=timezone.now())
    with pytest.raises(sla_runs.RunRefused, match=f"{run.label} of .* is running"):
        sla_runs.create_run(engagement=world.e1, user=None)
    Progress.objects.filter(pk=progress.pk).update(state=ProgressState.SUCCEEDED)
    SlaRun.objects.filter(pk=run.pk).update(progress=None, status=RunStatus.DONE)
    queued = sla_runs.create_run(engagement=world.e1, user=None)  # not yet linked to a task
    with pytest.raises(sla_runs.RunRefused, match=f"{queued.label} of .* is queued"):
        sla_runs.create_run(engagement=world.e1, user=None)


def test_a_run_left_open_without_a_progress_fails_once_past_the_lease(world, data) -> None:  # noqa: F811
    left = sla_runs.create_run(engagement=world.e1, user=None, as_of=AS_OF)
    SlaRun.objects.filter(pk=left.pk).update(
        status=RunStatus.RUNNING, started_at=timezone.now() - LONG_AGO
    )
    new = sla_runs.create_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    left.refresh_from_db()
    assert new.status == RunStatus.QUEUED
    assert (left.status, left.error) == (RunStatus.FAILED, sla_runs.ORPHANED)
    record = _history(left)[-1]
    assert (record.action, record.source) == (AuditAction.UPDATE, AuditSource.SYSTEM)


def test_a_system_exit_in_a_run_is_recorded_on_run_and_bar(world, data, monkeypatch) -> None:  # noqa: F811
    def exit_now(*args, **kwargs):
        raise SystemExit(1)

    monkeypatch.setattr(sla_runs, "_compute", exit_now)
    # Raised again by the task: the immediate backend (tests) records it as the task's failure.
    sla_runs.start_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    run = SlaRun.objects.get()
    progress = Progress.objects.get(pk=run.progress_id)
    assert progress.state == ProgressState.FAILED
    assert progress.error.startswith("The worker was stopped (the process exited, code 1)")
    assert run.status == RunStatus.FAILED and run.error == progress.error
    assert _history(run)[-1].source == AuditSource.SYSTEM
    monkeypatch.undo()
    again, _ = sla_runs.start_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    assert again.status == RunStatus.DONE


def test_try_again_starts_a_new_run_for_those_who_may(world, data, client_for) -> None:  # noqa: F811
    run, progress = _dead_run(world)
    reap_dead_work()
    url = reverse("progress:retry", args=[progress.pk])
    assert client_for(world.outsider).post(url).status_code == 404  # another vendor's world
    assert client_for(world.observer).post(url).status_code == 403  # reads, may not run
    response = client_for(world.vendor_lead).post(url)  # not the owner, but may start runs
    new = SlaRun.objects.exclude(pk=run.pk).get()
    assert response.status_code == 302 and response.url == new.get_absolute_url()
    assert new.as_of == run.as_of and new.started_by == world.vendor_lead
    assert new.status == RunStatus.DONE
    page = client_for(world.it_lead).get(run.get_absolute_url()).content.decode()
    assert "The worker running this stopped" in page


def _staged_import(world, media) -> tuple[Staged, Progress]:
    upload = SimpleUploadedFile(
        "big.csv", b"ticket_id,priority,opened_at\nA-1,P1,2025-03-03T10:00:00Z\n"
    )
    staged = stage_upload(
        upload,
        engagement_id=world.e1.pk,
        owner_id=world.it_lead.pk,
        format="generic",
        time_zone="UTC",
        keep_text=False,
    )
    progress = Progress.objects.create(
        owner=world.it_lead,
        label=f"Import of {staged.file_name}",
        kind="import_tickets",
        engagement=world.e1,
        task_name=import_staged.module_path,
        arguments={"staged_id": staged.id},
    )
    staged.import_progress_id = str(progress.pk)
    staged.save()
    return staged, _dead(progress)


def test_a_dead_import_is_recorded_failed_and_its_files_removed(world, client_for, media) -> None:
    staged, progress = _staged_import(world, media)
    assert staged.directory.is_dir()
    client = client_for(world.it_lead)
    page = client.get(reverse("service:import_progress", args=[progress.pk])).content.decode()
    assert "The worker running this stopped" in page and "upload it again" in page
    assert not staged.directory.exists()
    batch = ImportBatch.objects.get()
    assert batch.status == ImportStatus.FAILED
    assert batch.file_name == "big.csv" and batch.format == "generic"
    assert batch.imported_by == world.it_lead and batch.rows_read == 0
    assert batch.error.startswith("The worker running this stopped (no sign of life since ")
    [record] = _history(batch)
    assert (record.action, record.source, record.user_name) == (
        AuditAction.CREATE,
        AuditSource.SYSTEM,
        "system",
    )
    detail = client.get(batch.get_absolute_url()).content.decode()
    assert "The worker running this stopped" in detail
    # Confirming the upload again no longer leads back to the dead import.
    assert client.post(reverse("service:import_confirm", args=[staged.id])).status_code == 404
    # "Try again" cannot: the file is gone. It says so and links to the wizard.
    response = client.post(reverse("progress:retry", args=[progress.pk]))
    assert response.status_code == 409
    html = response.content.decode()
    assert "upload it again" in html
    assert reverse("service:import_upload", args=[world.e1.pk]) in html
    assert reap_dead_work() == [] and ImportBatch.objects.count() == 1


def test_clean_staged_imports_reaps_and_removes_ended_imports(world, media) -> None:
    from django.core.management import call_command

    staged, progress = _staged_import(world, media)
    call_command("clean_staged_imports")
    assert not staged.directory.exists()
    assert Progress.objects.get(pk=progress.pk).state == ProgressState.FAILED
