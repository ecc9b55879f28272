"""List exports over ``TANDEM_EXPORT_BACKGROUND_ROWS`` rows: the request only queues them (a
limited count, a redirect to the progress page), the worker writes them as the person who
asked, the file is that person's alone, old files go, dead work is cleaned up and can be tried
again. (Tests run tasks with the immediate backend: the work has ended when the request
answers.)"""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tandem.core import exports, exports_background
from tandem.core.choices import ProgressState
from tandem.core.exports_background import KIND, clean_exports, export_list
from tandem.core.models import Progress
from tandem.core.tasks import export_dir, start_with_progress
from tandem.core.tasks_recovery import reap_dead_work
from tandem.service.models import Ticket
from tandem.service.tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

OPENED = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)  # 08:00 in Chicago


@pytest.fixture(autouse=True)
def media(tmp_path, settings) -> Path:
    settings.MEDIA_ROOT = tmp_path
    settings.TANDEM_EXPORT_BACKGROUND_ROWS = 5
    settings.TANDEM_TASK_LEASE_SECONDS = 60
    return tmp_path


@pytest.fixture
def tickets(world) -> list[Ticket]:
    world.e1.time_zone = "America/Chicago"
    world.e1.save()
    return [
        TicketFactory(engagement=world.e1, ticket_id=f"INC{n:04d}", opened_at=OPENED)
        for n in range(8)
    ]


def _tickets_url(world, fmt: str, query: str = "") -> str:
    return reverse("service:ticket_list", args=[world.e1.pk]) + f"?export={fmt}{query}"


def test_a_large_tickets_export_runs_in_the_background(world, tickets, client_for) -> None:
    client = client_for(world.it_lead)
    started = time.monotonic()
    response = client.get(_tickets_url(world, "xlsx"))
    assert response.status_code == 302
    progress = Progress.objects.get(owner=world.it_lead, kind=KIND)
    assert response["Location"] == progress.get_absolute_url()
    assert time.monotonic() - started < 5
    assert progress.state == ProgressState.SUCCEEDED, progress.error
    assert progress.owner_only and progress.engagement == world.e1
    assert progress.label == "Tickets of Alpha managed services as XLSX"
    assert progress.result["rows"] == 8
    assert progress.result["file_name"].startswith("alpha-managed-services-tickets-")

    # The progress page: the bar at 100 %, the count, and the download link.
    page = client.get(progress.get_absolute_url()).content.decode()
    download = reverse("progress:download", args=[progress.pk])
    assert f'href="{download}"' in page
    assert "8 records exported" in page
    assert 'value="100"' in page

    answer = client.get(download)
    assert answer.status_code == 200
    assert answer["Content-Type"] == exports.XLSX_TYPE
    assert answer["Content-Disposition"].startswith("attachment")
    body = b"".join(answer.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 8
    header = list(rows[0])
    assert "Opened (America/Chicago)" in header
    opened = header.index("Opened (America/Chicago)")
    assert {row[opened] for row in rows[1:]} == {datetime(2025, 3, 3, 8, 0)}
    assert sorted(row[0] for row in rows[1:]) == [f"INC{n:04d}" for n in range(8)]


def test_only_the_requester_sees_and_downloads_it(world, tickets, client_for) -> None:
    client_for(world.it_lead).get(_tickets_url(world, "csv"))
    progress = Progress.objects.get(owner=world.it_lead, kind=KIND)
    download = reverse("progress:download", args=[progress.pk])
    # The sponsor sees the same tickets, but not this person's file; nor does anyone else.
    for other in (world.sponsor, world.vendor_lead, world.outsider):
        client = client_for(other)
        assert client.get(download).status_code == 404, other
        assert client.get(progress.get_absolute_url()).status_code == 404, other
    assert client_for(world.it_lead).get(download).status_code == 200


def test_the_background_export_keeps_the_filters_and_the_scope(world, tickets, client_for):
    TicketFactory(engagement=world.e2, ticket_id="INC-E2")
    for n in range(6):
        TicketFactory(engagement=world.e1, ticket_id=f"P1-{n}", priority="P1")
    client = client_for(world.it_lead)
    response = client.get(_tickets_url(world, "csv", "&priority=P1"))
    assert response.status_code == 302
    progress = Progress.objects.get(owner=world.it_lead, kind=KIND)
    answer = client.get(reverse("progress:download", args=[progress.pk]))
    assert answer["Content-Type"].startswith("text/csv")
    lines = b"".join(answer.streaming_content).decode().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [f"P1-{n}" for n in range(6)]


def test_a_small_export_is_written_in_the_request(world, tickets, client_for, settings):
    settings.TANDEM_EXPORT_BACKGROUND_ROWS = 8
    response = client_for(world.it_lead).get(_tickets_url(world, "csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert not Progress.objects.filter(kind=KIND).exists()


def test_the_request_only_counts_up_to_the_threshold(world, tickets, client_for, settings):
    """Over the threshold the request reads no ticket and counts at most threshold + 1 rows;
    the work waits for a worker (a backend that runs nothing here)."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with CaptureQueriesContext(connection) as queries:
        response = client_for(world.it_lead).get(_tickets_url(world, "xlsx"))
    assert response.status_code == 302
    assert Progress.objects.get(kind=KIND).state == ProgressState.QUEUED
    reads = [q["sql"] for q in queries if 'FROM "service_ticket"' in q["sql"]]
    assert len(reads) == 1 and "COUNT(" in reads[0] and "LIMIT 6" in reads[0], reads


def test_the_bar_moves_while_the_worker_writes(world, tickets, client_for, monkeypatch):
    monkeypatch.setattr(exports, "REPORT_EVERY", 3)
    messages: list[str] = []
    update = Progress.update

    def spy(self, **kwargs):
        messages.append(kwargs.get("message") or "")
        return update(self, **kwargs)

    monkeypatch.setattr(Progress, "update", spy)
    client_for(world.it_lead).get(_tickets_url(world, "xlsx"))
    assert messages == ["3 of 8 rows written", "6 of 8 rows written"]


def test_a_worker_writes_nothing_for_someone_without_access(world, tickets) -> None:
    path = reverse("service:ticket_list", args=[world.e1.pk])
    progress = start_with_progress(
        export_list,
        owner=world.outsider,
        label="Tickets",
        kind=KIND,
        path=path,
        query="export=csv",
    )
    assert progress.state == ProgressState.FAILED
    assert progress.error == "You no longer have access to this list."
    not_a_list = start_with_progress(
        export_list,
        owner=world.it_lead,
        label="Not a list",
        kind=KIND,
        path=reverse("core:engagement_detail", args=[world.e1.pk]),
        query="export=csv",
    )
    assert not_a_list.error == "Only lists can be exported."
    assert not list(export_dir().glob("*")) if export_dir().is_dir() else True


def test_a_dead_export_is_cleaned_up_and_can_be_tried_again(world, tickets, client_for):
    then = timezone.now() - timedelta(minutes=5)
    progress = Progress.objects.create(
        owner=world.it_lead,
        label="Tickets of Alpha managed services as CSV",
        kind=KIND,
        engagement=world.e1,
        task_name=export_list.module_path,
        arguments={
            "path": reverse("service:ticket_list", args=[world.e1.pk]),
            "query": "export=csv",
        },
        state=ProgressState.RUNNING,
        worker="gone.example:99",
        heartbeat=then,
    )
    Progress.objects.filter(pk=progress.pk).update(last_updated=then)
    export_dir().mkdir(parents=True)
    half = export_dir() / f".export-{progress.pk}-abc.part"
    half.write_text("ticket_id,priority\nINC0000,P3\n")

    assert [p.pk for p in reap_dead_work()] == [progress.pk]
    progress.refresh_from_db()
    assert progress.state == ProgressState.FAILED
    assert not half.exists()

    client = client_for(world.it_lead)
    page = client.get(progress.get_absolute_url()).content.decode()
    retry = reverse("progress:retry", args=[progress.pk])
    assert retry in page
    assert client_for(world.sponsor).post(retry).status_code == 404
    response = client.post(retry)
    assert response.status_code == 302
    again = Progress.objects.filter(owner=world.it_lead, kind=KIND).exclude(pk=progress.pk).get()
    assert response["Location"] == again.get_absolute_url()
    assert again.state == ProgressState.SUCCEEDED, again.error
    assert again.result["rows"] == 8


def test_old_export_files_are_removed(world) -> None:
    export_dir().mkdir(parents=True)
    old, fresh = export_dir() / "old-tickets-1.csv", export_dir() / "new-tickets-2.csv"
    stale = export_dir() / ".export-x-1.part"
    for path in (old, fresh, stale):
        path.write_text("x")
    two_days_ago = time.time() - 2 * 86400
    for path in (old, stale):
        os.utime(path, (two_days_ago, two_days_ago))

    assert clean_exports(dry_run=True) == [stale, old]
    assert old.exists()
    out = io.StringIO()
    call_command("clean_exports", stdout=out)
    assert "Removed 2 export files." in out.getvalue()
    assert not old.exists() and not stale.exists() and fresh.exists()
    assert clean_exports(timedelta(0)) == [fresh]
    assert exports_background.background_rows() == 5


class _SideChannel:
    """A heartbeat stand-in: records what a worker's heartbeat would write for the work."""

    side_channel = False

    def __init__(self) -> None:
        self.reported: list[str] = []

    def report(self, percent: int, message: str) -> bool:
        if not self.side_channel:
            return False
        self.reported.append(message)
        return True


def test_in_a_worker_the_bar_moves_through_the_heartbeat(world, tickets, monkeypatch) -> None:
    """A write on the connection that reads the rows fails on SQLite once the heartbeat has
    committed ("database is locked"): in a worker, progress goes through the heartbeat."""
    monkeypatch.setattr(exports, "REPORT_EVERY", 4)
    progress = Progress.objects.create(owner=world.it_lead, label="Tickets", kind=KIND)
    progress._heartbeat = heartbeat = _SideChannel()
    path = reverse("service:ticket_list", args=[world.e1.pk])
    result = exports_background.write_export(progress, path, "export=csv")
    assert result["rows"] == 8
    assert heartbeat.side_channel
    assert heartbeat.reported == ["4 of 8 rows written", "8 of 8 rows written"]
    progress.refresh_from_db()
    assert progress.message == ""  # nothing written on the reading connection


def test_no_export_link_asks_the_browser_to_save_what_it_gets() -> None:
    """An export link with ``download`` would save the progress page of a background export
    as a file: the server's ``Content-Disposition: attachment`` decides instead."""
    import re

    source = Path(__file__).resolve().parents[1] / "src" / "tandem"
    link = re.compile(r"<a\b[^>]*export=[^>]*\bdownload\b[^>]*>")
    offenders = [
        f"{path.relative_to(source)}: {match.group(0)}"
        for path in source.rglob("*.html")
        for match in link.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_once_the_file_is_removed_the_page_says_so(world, tickets, client_for) -> None:
    client = client_for(world.it_lead)
    client.get(_tickets_url(world, "csv"))
    progress = Progress.objects.get(owner=world.it_lead, kind=KIND)
    download = reverse("progress:download", args=[progress.pk])
    assert clean_exports(timedelta(0))  # a day later
    page = client.get(progress.get_absolute_url()).content.decode()
    assert download not in page
    assert "no longer kept" in page
    assert client.get(download).status_code == 404
