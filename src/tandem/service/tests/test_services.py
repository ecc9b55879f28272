"""Storing imported tickets: upserts, hold replacement, all-or-nothing, one audit record."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection
from django.db.models import RestrictedError
from polars.testing import assert_frame_equal

from tandem.analytics.frames import HOLDS, TICKETS
from tandem.core.audit import audit_context
from tandem.core.choices import AuditAction, AuditSource
from tandem.core.models import ChangeLog
from tandem.core.models.base import EngagementBulkModel
from tandem.core.services import NotAllowed
from tandem.service import bulk, bulk_postgres, services
from tandem.service.choices import ImportStatus
from tandem.service.models import ImportBatch, Ticket, TicketHold
from tandem.service.services import ImportRefused, import_tickets, ticket_frames

pytestmark = pytest.mark.django_db


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC)


def tickets_frame(rows: list[dict], **extra: list) -> pl.DataFrame:
    defaults = {
        "kind": "incident",
        "priority": "P2",
        "priority_raw": "2 - High",
        "responded_at": None,
        "resolved_at": None,
        "closed_at": None,
        "assignment_group": "Service Desk",
        "category": "Network",
        "reassignment_count": 0,
        "reopen_count": 0,
    }
    full = [{**defaults, **row} for row in rows]
    frame = pl.DataFrame(full, schema=TICKETS)
    return frame.with_columns(**{name: pl.Series(values) for name, values in extra.items()})


def holds_frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=HOLDS, orient="row")


FIRST = tickets_frame(
    [
        {
            "ticket_id": "INC001",
            "priority": "P1",
            "priority_raw": "1 - Critical",
            "opened_at": at(3, 8, 0, 7),
            "responded_at": at(3, 8, 4, 59),
            "resolved_at": at(3, 11, 30, 1),
            "closed_at": at(4, 11, 30, 1),
            "reassignment_count": 2,
        },
        {"ticket_id": "INC002", "opened_at": at(3, 9), "resolved_at": at(5, 17)},
        {
            "ticket_id": "INC003",
            "opened_at": at(31, 23, 59, 59),
            "priority": None,
            "priority_raw": "Unknown",
            "assignment_group": None,
            "category": None,
            "reassignment_count": None,
            "reopen_count": None,
        },
    ]
)
FIRST_HOLDS = holds_frame(
    [
        ("INC001", at(3, 9), at(3, 10)),
        ("INC002", at(3, 12), at(4, 8)),
        ("INC002", at(4, 9), None),
    ]
)


def run(world, tickets=FIRST, holds=FIRST_HOLDS, **kwargs) -> ImportBatch:
    options = {
        "engagement": world.e1,
        "actor": world.it_lead,
        "file_name": "incidents.csv",
        "format": "generic",
        "time_zone": "America/Chicago",
        **kwargs,
    }
    return import_tickets(tickets=tickets, holds=holds, **options)


def records_of(model) -> list[ChangeLog]:
    return list(ChangeLog.objects.filter(content_type=ContentType.objects.get_for_model(model)))


def test_import_creates_tickets_and_holds(world) -> None:
    batch = run(world, mapping={"ticket_id": "Number"}, warnings=["2 rows had no category"])
    assert (batch.rows_read, batch.tickets_created, batch.tickets_updated) == (3, 3, 0)
    assert batch.holds_imported == 3
    assert batch.status == ImportStatus.IMPORTED
    assert batch.imported_by == world.it_lead
    assert batch.finished_at >= batch.started_at
    stored = ImportBatch.objects.get(pk=batch.pk)
    assert stored.mapping == {"ticket_id": "Number"}
    assert stored.warnings == ["2 rows had no category"]
    assert stored.tickets_created == 3 and stored.holds_imported == 3
    first = Ticket.objects.get(engagement=world.e1, ticket_id="INC001")
    assert first.batch == batch
    assert first.priority == "P1" and first.priority_raw == "1 - Critical"
    assert first.opened_at == at(3, 8, 0, 7)
    assert first.reassignment_count == 2
    third = Ticket.objects.get(ticket_id="INC003")
    assert third.priority is None and third.assignment_group == "" and third.reopen_count is None
    assert TicketHold.objects.filter(ticket__ticket_id="INC002").count() == 2
    assert TicketHold.objects.get(ticket__ticket_id="INC002", end__isnull=True).start == at(4, 9)
    assert set(TicketHold.objects.values_list("engagement_id", flat=True)) == {world.e1.pk}


def test_reimport_updates_the_same_ids_and_replaces_their_holds(world) -> None:
    first = run(world)
    second_tickets = tickets_frame(
        [
            # INC001 resolved later, now without holds; INC004 new. INC002 is not in the file.
            {"ticket_id": "INC001", "opened_at": at(3, 8), "resolved_at": at(6, 10)},
            {"ticket_id": "INC004", "opened_at": at(7, 8)},
        ]
    )
    second_holds = holds_frame([("INC004", at(7, 9), at(7, 10))])
    second = run(world, tickets=second_tickets, holds=second_holds, file_name="march.csv")
    assert (second.rows_read, second.tickets_created, second.tickets_updated) == (2, 1, 1)
    assert second.holds_imported == 1
    assert Ticket.objects.filter(engagement=world.e1).count() == 4
    updated = Ticket.objects.get(ticket_id="INC001")
    assert updated.resolved_at == at(6, 10) and updated.priority == "P2"
    assert updated.batch == second
    assert not updated.holds.exists()  # replaced by the file's (none)
    # A ticket not in the file keeps its holds and its batch.
    untouched = Ticket.objects.get(ticket_id="INC002")
    assert untouched.batch == first and untouched.holds.count() == 2
    assert TicketHold.objects.count() == 3


def test_the_same_ids_in_another_engagement_are_other_tickets(world) -> None:
    run(world)
    other = run(world, engagement=world.e2, actor=None)
    assert other.tickets_created == 3
    assert Ticket.objects.count() == 6


def test_one_audit_record_per_import_and_none_per_ticket(world) -> None:
    with audit_context(source=AuditSource.WEB, user=world.it_lead) as outer:
        batch = run(world)
    assert records_of(Ticket) == [] and records_of(TicketHold) == []
    [record] = records_of(ImportBatch)
    assert record.action == AuditAction.CREATE
    assert record.object_id == str(batch.pk)
    assert record.source == AuditSource.IMPORT
    assert record.user == world.it_lead
    assert record.request_id == outer.request_id
    assert record.engagement_id == world.e1.pk
    assert record.postchange_data["tickets_created"] == 3
    assert record.message == ("imported 3 tickets (3 new, 0 updated), 3 holds from incidents.csv")


@pytest.fixture
def small_chunks(monkeypatch) -> int:
    """Chunks of 1,000 rows on both write paths, so a few thousand rows take several."""
    monkeypatch.setattr(bulk, "CHUNK", 1_000)
    monkeypatch.setattr(bulk_postgres, "COPY_CHUNK", 1_000)
    return 1_000


def test_a_failure_midway_leaves_nothing(world, small_chunks) -> None:
    run(world)  # something already there must survive untouched
    before = (Ticket.objects.count(), TicketHold.objects.count(), ChangeLog.objects.count())

    def broken(percent: int, message: str) -> None:
        if "holds stored" in message:  # every ticket is written by now, and some holds
            raise RuntimeError("disk full")

    many = tickets_frame(
        [{"ticket_id": f"NEW{n:05d}", "opened_at": at(10, 8)} for n in range(2_500)]
        + [{"ticket_id": "INC001", "opened_at": at(3, 8), "resolved_at": at(9, 9)}]
    )
    holds = holds_frame([(f"NEW{n:05d}", at(10, 9), None) for n in range(1_500)])
    with pytest.raises(RuntimeError, match="disk full"):
        run(world, tickets=many, holds=holds, file_name="broken.csv", progress=broken)
    assert ImportBatch.objects.count() == 1
    assert (Ticket.objects.count(), TicketHold.objects.count(), ChangeLog.objects.count()) == before
    assert Ticket.objects.get(ticket_id="INC001").resolved_at == at(3, 11, 30, 1)
    assert Ticket.objects.get(ticket_id="INC001").holds.count() == 1


def test_a_database_error_in_a_later_chunk_rolls_back_the_earlier_ones(
    world, monkeypatch, small_chunks
) -> None:
    rows = [{"ticket_id": f"T{n:05d}", "opened_at": at(10, 8)} for n in range(small_chunks + 5)]
    rows[-1]["resolved_at"] = at(1, 8)  # before opened: the database's constraint refuses it

    def unchecked(tickets, holds, keep_text):  # skip the frame checks to reach the database
        return tickets.with_columns(short_description=pl.lit("")), holds

    monkeypatch.setattr(services, "checked_frames", unchecked)
    with pytest.raises(IntegrityError):
        run(world, tickets=tickets_frame(rows), holds=holds_frame([]))
    assert not ImportBatch.objects.exists()
    assert not Ticket.objects.exists() and not TicketHold.objects.exists()
    assert not records_of(ImportBatch)


def test_progress_is_reported_between_chunks(world, small_chunks) -> None:
    seen: list[tuple[int, str]] = []
    rows = [{"ticket_id": f"T{n:05d}", "opened_at": at(10, 8)} for n in range(small_chunks * 2)]
    run(
        world,
        tickets=tickets_frame(rows),
        holds=holds_frame([]),
        progress=lambda p, m: seen.append((p, m)),
    )
    percents = [p for p, _ in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    assert seen[0] == (40, "1,000 of 2,000 tickets stored")
    assert seen[-1][1].startswith("imported 2,000 tickets (2,000 new, 0 updated)")


def test_free_text_is_dropped_unless_the_import_keeps_it(world) -> None:
    text = ["printer jammed", "patient chart slow", None]
    run(world, tickets=tickets_frame(FIRST.to_dicts(), short_description=text))
    assert set(Ticket.objects.values_list("short_description", flat=True)) == {""}
    batch = run(
        world, tickets=tickets_frame(FIRST.to_dicts(), short_description=text), keep_text=True
    )
    assert batch.keep_text
    kept = dict(Ticket.objects.values_list("ticket_id", "short_description"))
    assert kept == {"INC001": "printer jammed", "INC002": "patient chart slow", "INC003": ""}


def test_ticket_frames_round_trip_to_the_second(world) -> None:
    run(world)
    tickets, holds = ticket_frames(world.e1)
    assert tickets.schema == pl.Schema(TICKETS)
    assert holds.schema == pl.Schema(HOLDS)
    assert_frame_equal(tickets, FIRST.sort("ticket_id"))
    assert_frame_equal(holds, FIRST_HOLDS.sort("ticket_id", "start"))
    empty_tickets, empty_holds = ticket_frames(world.e2)
    assert empty_tickets.height == 0 and empty_tickets.schema == pl.Schema(TICKETS)
    assert empty_holds.height == 0


def test_an_actor_without_the_right_is_refused(world) -> None:
    with pytest.raises(NotAllowed):
        run(world, actor=world.observer)
    with pytest.raises(NotAllowed):
        run(world, actor=world.outsider)
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("tickets", "holds", "message"),
    [
        (FIRST.drop("opened_at"), FIRST_HOLDS, "tickets frame: missing column(s) opened_at"),
        (
            FIRST.with_columns(pl.col("opened_at").dt.replace_time_zone(None)),
            FIRST_HOLDS,
            "tickets frame: column opened_at is Datetime(time_unit='us', time_zone=None), "
            "expected a UTC Datetime",
        ),
        (
            FIRST.with_columns(pl.col("reopen_count").cast(pl.String)),
            FIRST_HOLDS,
            "tickets frame: column reopen_count is String, expected Int32",
        ),
        (
            FIRST.with_columns(description=pl.lit("x")),
            FIRST_HOLDS,
            "tickets frame: unexpected column(s) description",
        ),
        (FIRST, FIRST_HOLDS.rename({"end": "stop"}), "holds frame: missing column(s) end"),
        ("not a frame", FIRST_HOLDS, "tickets: expected a polars DataFrame, got str"),
    ],
    ids=["missing", "naive-instant", "wrong-type", "extra-column", "holds-missing", "not-a-frame"],
)
def test_a_wrong_schema_is_refused_with_a_clear_message(world, tickets, holds, message) -> None:
    with pytest.raises(ImportRefused) as refused:
        run(world, tickets=tickets, holds=holds)
    assert str(refused.value).startswith(message)
    assert not ImportBatch.objects.exists() and not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.with_columns(ticket_id=pl.lit("INC001")),
            "tickets frame: 3 row(s) repeat a ticket_id (first: row 1, ticket_id 'INC001')",
        ),
        (
            lambda t: t.with_columns(resolved_at=pl.lit(at(1, 0)).dt.cast_time_unit("us")),
            "tickets frame: 3 row(s) have resolved_at before opened_at (first: row 1",
        ),
        (
            lambda t: t.with_columns(priority=pl.lit("P9")),
            "tickets frame: 3 row(s) have a priority other than P1-P4",
        ),
        (
            lambda t: t.with_columns(kind=pl.lit("problem")),
            "tickets frame: 3 row(s) have a kind other than incident, request, other",
        ),
        (
            lambda t: t.with_columns(ticket_id=pl.lit("x" * 101) + pl.col("ticket_id")),
            "tickets frame: 3 row(s) have a ticket_id over 100 characters",
        ),
    ],
    ids=["duplicate", "resolved-before-opened", "priority", "kind", "too-long"],
)
def test_bad_ticket_values_are_refused(world, change, message) -> None:
    with pytest.raises(ImportRefused) as refused:
        run(world, tickets=change(FIRST), holds=holds_frame([]))
    assert str(refused.value).startswith(message)
    assert not Ticket.objects.exists()


def test_bad_holds_are_refused(world) -> None:
    orphan = holds_frame([("INC999", at(3, 9), at(3, 10))])
    with pytest.raises(ImportRefused, match=r"holds frame: 1 row\(s\) belong to no ticket"):
        run(world, holds=orphan)
    backwards = holds_frame([("INC001", at(3, 9), at(3, 8))])
    with pytest.raises(ImportRefused, match=r"holds frame: 1 row\(s\) end before they start"):
        run(world, holds=backwards)
    assert not ImportBatch.objects.exists()


def test_a_bad_format_or_time_zone_is_refused(world) -> None:
    with pytest.raises(ImportRefused, match="format: Value 'excel' is not a valid choice"):
        run(world, format="excel")
    with pytest.raises(ImportRefused, match="time_zone: Mars/Olympus is not a known IANA"):
        run(world, time_zone="Mars/Olympus")


def test_an_empty_file_imports_nothing_but_is_recorded(world) -> None:
    batch = run(world, tickets=pl.DataFrame(schema=TICKETS), holds=pl.DataFrame(schema=HOLDS))
    assert (batch.rows_read, batch.tickets_created, batch.holds_imported) == (0, 0, 0)


def test_other_integer_widths_and_time_units_are_accepted(world) -> None:
    tickets = FIRST.with_columns(
        pl.col("reopen_count").cast(pl.Int64), pl.col("opened_at").dt.cast_time_unit("ns")
    )
    holds = FIRST_HOLDS.with_columns(pl.col("start").dt.cast_time_unit("ms"))
    batch = run(world, tickets=tickets, holds=holds)
    assert batch.tickets_created == 3
    assert_frame_equal(ticket_frames(world.e1)[0], FIRST.sort("ticket_id"))


def test_deleting_the_engagement_takes_its_tickets_and_imports(world) -> None:
    run(world)
    world.e1.delete()
    assert not ImportBatch.objects.exists()
    assert not Ticket.objects.exists() and not TicketHold.objects.exists()


@pytest.mark.parametrize("how", ["instance", "queryset"])
def test_deleting_an_engagement_deletes_its_bulk_data_without_reading_it(
    world, how, monkeypatch
) -> None:
    """One DELETE per bulk table, no row made into a Python object: a million tickets go as
    fast as three. The counts returned are Django's, bulk tables included; the other
    engagement's tickets stay; the engagement's deletion is still in the audit trail."""
    run(world)
    run(world, engagement=world.e2, actor=None)
    pk = world.e1.pk
    loaded: list[str] = []
    for model in (Ticket, TicketHold):
        original = model.from_db.__func__  # type: ignore[attr-defined]

        def counting(cls, *args, _original=original, **kwargs):
            loaded.append(cls.__name__)
            return _original(cls, *args, **kwargs)

        monkeypatch.setattr(model, "from_db", classmethod(counting))
    if how == "instance":
        deleted, counts = world.e1.delete()
    else:
        deleted, counts = type(world.e1).objects.filter(pk=pk).delete()
    assert loaded == []
    assert counts["service.Ticket"] == 3 and counts["service.TicketHold"] == 3
    assert deleted >= 6 + 1
    monkeypatch.undo()
    assert Ticket.objects.filter(engagement=world.e2).count() == 3
    assert TicketHold.objects.filter(engagement=world.e2).count() == 3
    assert not Ticket.objects.filter(engagement_id=pk).exists()
    assert ChangeLog.objects.filter(action=AuditAction.DELETE, object_id=str(pk)).exists()


def test_only_bulk_tables_refer_to_bulk_tables() -> None:
    """What lets an engagement's deletion delete its bulk tables with plain DELETEs: no
    other model has a key to them whose on_delete Django would have to carry out."""
    bulk_models = [m for m in apps.get_models() if issubclass(m, EngagementBulkModel)]
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.concrete and field.related_model in bulk_models:
                assert model in bulk_models, f"{model._meta.label}.{field.name}"


def test_deleting_a_ticket_or_an_import_keeps_holds_and_tickets_whole(world) -> None:
    """The ticket and batch keys have no database constraint (ADR 0002): Django's own
    CASCADE and RESTRICT must keep them whole, engagement by engagement."""
    batch = run(world)
    other = run(world, engagement=world.e2, actor=None)
    Ticket.objects.get(engagement=world.e1, ticket_id="INC002").delete()
    assert not TicketHold.objects.filter(engagement=world.e1, ticket__ticket_id="INC002")
    assert TicketHold.objects.filter(engagement=world.e1).count() == 1
    assert TicketHold.objects.filter(engagement=world.e2).count() == 3
    with pytest.raises(RestrictedError):
        batch.delete()  # tickets still point to it
    assert ImportBatch.objects.filter(pk=batch.pk).exists()
    world.e1.delete()
    assert set(Ticket.objects.values_list("batch", flat=True)) == {other.pk}
    assert TicketHold.objects.count() == 3
    assert not TicketHold.objects.exclude(ticket__in=Ticket.objects.all()).exists()


def test_no_key_of_tickets_and_holds_is_a_database_constraint() -> None:
    """ADR 0002: the engagement, ticket and batch keys of tickets and holds are kept whole
    by their only writer (and the engagement lock, ``test_engagement_lock``), not checked
    row by row by the database; the indexes that serve queries stay."""
    with connection.cursor() as cursor:
        for model, indexed in [
            (
                Ticket,
                [("engagement_id", "ticket_id"), ("engagement_id", "opened_at"), ("batch_id",)],
            ),
            (TicketHold, [("engagement_id",), ("ticket_id", "start")]),
        ]:
            found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            assert not [c for c in found.values() if c["foreign_key"]]
            assert set(indexed) <= {
                tuple(c["columns"]) for c in found.values() if c["index"] or c["unique"]
            }
