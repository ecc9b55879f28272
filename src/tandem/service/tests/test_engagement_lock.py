"""Deleting an engagement while an import into it runs (ADR 0002).

Tickets and holds have no database foreign key to their engagement. What closes the race
instead is a row lock: the import holds ``FOR KEY SHARE`` on its engagement until it
commits, and every deletion takes ``FOR UPDATE`` first. The PostgreSQL tests run the import
and the deletion in two threads, each with its own connection, and hold the import still
in the middle of its writes (its progress callback waits) to prove the order.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from django.db import connection, connections, transaction

from tandem.analytics.frames import HOLDS, TICKETS
from tandem.core.models import Engagement
from tandem.core.models.engagements import lock_for_deletion
from tandem.service import bulk, bulk_postgres
from tandem.service.models import ImportBatch, Ticket, TicketHold
from tandem.service.services import ImportRefused, import_tickets

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks between two connections: SQLite has one writer at a time",
)

#: How long a thread that should be waiting on a lock is given to (wrongly) finish.
BLOCKED = 1.5
#: Upper bound on any wait that should end: a failing test fails instead of hanging.
PATIENCE = 30


def frames(n: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    start = datetime(2025, 3, 1, tzinfo=UTC)
    tickets = pl.DataFrame(
        {
            "ticket_id": [f"INC{i:05d}" for i in range(n)],
            "kind": ["incident"] * n,
            "priority": ["P3"] * n,
            "priority_raw": ["3 - Moderate"] * n,
            "opened_at": [start + timedelta(minutes=i) for i in range(n)],
            "responded_at": [None] * n,
            "resolved_at": [start + timedelta(minutes=i, hours=2) for i in range(n)],
            "closed_at": [None] * n,
            "assignment_group": ["Service Desk"] * n,
            "category": ["Network"] * n,
            "reassignment_count": [0] * n,
            "reopen_count": [0] * n,
        },
        schema=TICKETS,
    )
    holds = pl.DataFrame(
        {
            "ticket_id": tickets["ticket_id"],
            "start": [start + timedelta(minutes=i, seconds=30) for i in range(n)],
            "end": [start + timedelta(minutes=i, hours=1) for i in range(n)],
        },
        schema=HOLDS,
    )
    return tickets, holds


class Worker(threading.Thread):
    """Runs ``action`` on its own database connection; keeps its result or exception."""

    def __init__(self, action) -> None:
        super().__init__(daemon=True)
        self.action = action
        self.result = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.action()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc
        finally:
            connections.close_all()

    def outcome(self):
        self.join(PATIENCE)
        assert not self.is_alive(), "still waiting"
        if self.error is not None:
            raise self.error
        return self.result


def importer(world, engagement: Engagement, tickets, holds, *, paused, resume):
    """An import that stops, lock held and some tickets written, until ``resume`` is set."""

    def progress(percent: int, message: str) -> None:
        if "tickets stored" in message and not paused.is_set():
            paused.set()
            assert resume.wait(PATIENCE)

    def action():
        return import_tickets(
            engagement=engagement,
            actor=world.it_lead,
            tickets=tickets,
            holds=holds,
            file_name="incidents.csv",
            format="generic",
            time_zone="UTC",
            progress=progress,
        )

    return Worker(action)


def orphans() -> tuple[int, int]:
    """Tickets and holds whose engagement no longer exists."""
    engagements = Engagement.objects.values("pk")
    return (
        Ticket.objects.exclude(engagement__in=engagements).count(),
        TicketHold.objects.exclude(engagement__in=engagements).count(),
    )


@pytest.fixture
def small_chunks(monkeypatch):
    """Several progress reports per import on either write path."""
    monkeypatch.setattr(bulk_postgres, "COPY_CHUNK", 100)
    monkeypatch.setattr(bulk, "CHUNK", 100)


@on_postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reimport", [False, True], ids=["first import", "re-import"])
def test_a_deletion_waits_for_the_running_import_and_takes_all_it_wrote(
    world, small_chunks, reimport
) -> None:
    tickets, holds = frames(500)
    engagement = world.e1
    if reimport:  # the upsert path, with tickets and holds already there
        import_tickets(engagement=engagement, actor=None, tickets=tickets.head(200),
                       holds=holds.head(200), file_name="old.csv", format="generic",
                       time_zone="UTC")  # fmt: skip
    paused, resume = threading.Event(), threading.Event()
    importing = importer(world, engagement, tickets, holds, paused=paused, resume=resume)
    importing.start()
    assert paused.wait(PATIENCE), "the import never reported progress"

    deleting = Worker(lambda: Engagement.objects.get(pk=engagement.pk).delete())
    deleting.start()
    deleting.join(BLOCKED)
    assert deleting.is_alive(), "the deletion did not wait for the import"

    resume.set()
    batch = importing.outcome()
    assert batch.tickets_created + batch.tickets_updated == 500  # committed, whole
    deleted, per_model = deleting.outcome()
    assert per_model["service.Ticket"] == 500
    assert per_model["service.TicketHold"] == 500
    assert not Engagement.objects.filter(pk=engagement.pk).exists()
    assert not ImportBatch.objects.filter(engagement_id=engagement.pk).exists()
    assert orphans() == (0, 0)
    assert not Ticket.objects.filter(engagement_id=engagement.pk).exists()


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_the_admins_bulk_delete_waits_too(world, small_chunks) -> None:
    """``QuerySet.delete()`` (the admin's "delete selected") takes the same lock."""
    tickets, holds = frames(300)
    paused, resume = threading.Event(), threading.Event()
    importing = importer(world, world.e1, tickets, holds, paused=paused, resume=resume)
    importing.start()
    assert paused.wait(PATIENCE)

    chosen = [world.e1.pk, world.e2.pk]
    deleting = Worker(lambda: Engagement.objects.filter(pk__in=chosen).delete())
    deleting.start()
    deleting.join(BLOCKED)
    assert deleting.is_alive(), "the bulk deletion did not wait for the import"

    resume.set()
    importing.outcome()
    _, per_model = deleting.outcome()
    assert per_model["core.Engagement"] == 2
    assert per_model["service.Ticket"] == 300
    assert orphans() == (0, 0)
    assert not Ticket.objects.exists() and not TicketHold.objects.exists()


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_an_import_that_waited_for_a_deletion_is_refused_and_writes_nothing(world) -> None:
    tickets, holds = frames(50)
    engagement = world.e1
    locked, go_on = threading.Event(), threading.Event()

    def delete():
        with transaction.atomic():
            lock_for_deletion(Engagement.objects.filter(pk=engagement.pk))
            locked.set()
            assert go_on.wait(PATIENCE)
            return Engagement.objects.get(pk=engagement.pk).delete()

    deleting = Worker(delete)
    deleting.start()
    assert locked.wait(PATIENCE)
    importing = importer(
        world, engagement, tickets, holds, paused=threading.Event(), resume=threading.Event()
    )
    importing.start()
    importing.join(BLOCKED)
    assert importing.is_alive(), "the import did not wait for the deletion"

    go_on.set()
    deleting.outcome()
    with pytest.raises(ImportRefused, match="no longer exists"):
        importing.outcome()
    assert not ImportBatch.objects.exists()
    assert not Ticket.objects.exists() and not TicketHold.objects.exists()


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_imports_into_two_engagements_run_side_by_side(world, small_chunks) -> None:
    """The import's lock is a shared one: a second import, into another engagement or the
    same, does not wait for the first (nor does editing the engagement)."""
    tickets, holds = frames(300)
    paused, resume = threading.Event(), threading.Event()
    first = importer(world, world.e1, tickets, holds, paused=paused, resume=resume)
    first.start()
    assert paused.wait(PATIENCE)
    try:
        other = Worker(
            lambda: import_tickets(
                engagement=world.e2,
                actor=None,
                tickets=tickets,
                holds=holds,
                file_name="b.csv",
                format="generic",
                time_zone="UTC",
            )  # fmt: skip
        )
        other.start()
        assert other.outcome().tickets_created == 300

        def rename():
            engagement = Engagement.objects.get(pk=world.e1.pk)
            engagement.description = "renamed while importing"
            engagement.save()

        edit = Worker(rename)
        edit.start()
        edit.outcome()
    finally:
        resume.set()
    assert first.outcome().tickets_created == 300


@pytest.mark.django_db
def test_deleting_an_engagement_takes_its_tickets_and_holds_on_any_database(world) -> None:
    """No database cascade any more: Django's collector deletes them (the engagement's
    other records too), and an import into a deleted engagement is refused."""
    tickets, holds = frames(120)
    for engagement in (world.e1, world.e2):
        import_tickets(engagement=engagement, actor=None, tickets=tickets, holds=holds,
                       file_name="a.csv", format="generic", time_zone="UTC")  # fmt: skip
    gone = Engagement.objects.get(pk=world.e1.pk)
    gone.delete()
    assert orphans() == (0, 0)
    assert Ticket.objects.filter(engagement=world.e2).count() == 120
    assert TicketHold.objects.filter(engagement=world.e2).count() == 120
    Engagement.objects.filter(pk=world.e2.pk).delete()
    assert not Ticket.objects.exists() and not TicketHold.objects.exists()
    with pytest.raises(ImportRefused, match="no longer exists"):
        import_tickets(engagement=gone, actor=None, tickets=tickets, holds=holds,
                       file_name="a.csv", format="generic", time_zone="UTC")  # fmt: skip
