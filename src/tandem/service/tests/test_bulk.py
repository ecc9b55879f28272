"""The two write paths of an import: COPY on PostgreSQL and prepared upserts elsewhere.

They must store exactly the same thing, so the parity tests import the same frames through
both on PostgreSQL (the generic path forced with ``bulk.USE_COPY = False``) and compare
what reads back. The rest runs on whichever database the suite uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from django.db import connection
from polars.testing import assert_frame_equal

from tandem.analytics.frames import HOLDS, TICKETS
from tandem.service import bulk, bulk_postgres
from tandem.service.models import ImportBatch, Ticket, TicketHold
from tandem.service.services import import_tickets, ticket_frames

pytestmark = pytest.mark.django_db

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="compares the COPY path with the generic one; COPY exists only on PostgreSQL",
)

# Text that a naive CSV or SQL writer would get wrong.
AWKWARD = [
    'quote " and comma, here',
    "new\nline and\r\nreturn",
    "back\\slash \\N \\.",
    "\\.",
    "O'Brien; DROP TABLE service_ticket; --",
    "ünïcödé 🏥 病院",
    " leading and trailing ",
    "NULL",
]


def frames(n: int, *, seed: int = 1, prefix: str = "T") -> tuple[pl.DataFrame, pl.DataFrame]:
    """``n`` tickets with every kind of value (nulls, empty and awkward text, microseconds),
    and holds including several per ticket and ties on the same start."""
    base = datetime(2025, 3, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        k = (i * 7919 + seed) % 1009
        opened = base + timedelta(seconds=k * 3_607, microseconds=(k * 37) % 1_000_000 * (i % 2))
        rows.append(
            {
                "ticket_id": f"{prefix}{i:06d}" if i % 50 else f"{prefix}{i:06d} {AWKWARD[i % 8]}",
                "kind": ("incident", "request", "other")[k % 3],
                "priority": (None, "P1", "P2", "P3", "P4")[k % 5],
                "priority_raw": (None, "", "1 - Critical", AWKWARD[k % 8])[k % 4],
                "opened_at": opened,
                "responded_at": None if k % 6 == 0 else opened + timedelta(minutes=k % 90),
                "resolved_at": None if k % 4 == 0 else opened + timedelta(hours=k % 30),
                "closed_at": None if k % 3 == 0 else opened + timedelta(days=1 + k % 5),
                "assignment_group": (None, "Service Desk", "Northwind L2", AWKWARD[k % 8])[k % 4],
                "category": (None, "", "Network")[k % 3],
                "reassignment_count": None if k % 7 == 0 else k % 5,
                "reopen_count": None if k % 11 == 0 else k % 2,
            }
        )
    tickets = pl.DataFrame(rows, schema=TICKETS).with_columns(
        short_description=pl.Series([AWKWARD[i % 8] if i % 3 else None for i in range(n)])
    )
    holds = []
    for row in rows[::3]:
        start = row["opened_at"] + timedelta(minutes=5)
        holds.append((row["ticket_id"], start, start + timedelta(hours=2)))
        holds.append((row["ticket_id"], start, None))  # a tie on start: pk order decides
        holds.append((row["ticket_id"], start + timedelta(hours=1), start + timedelta(hours=3)))
    return tickets, pl.DataFrame(holds, schema=HOLDS, orient="row")


def store(world, engagement, tickets, holds, *, copy: bool, monkeypatch) -> ImportBatch:
    monkeypatch.setattr(bulk, "USE_COPY", copy)
    return import_tickets(
        engagement=engagement,
        actor=None,  # e2 has no member in the world fixture who may import
        tickets=tickets,
        holds=holds,
        file_name="export.csv",
        format="generic",
        time_zone="UTC",
        keep_text=True,
    )


def stored(engagement) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, str]]:
    tickets, holds = ticket_frames(engagement)
    text = dict(
        Ticket.objects.filter(engagement=engagement).values_list("ticket_id", "short_description")
    )
    return tickets, holds, text


def counts(batch: ImportBatch) -> tuple[int, int, int]:
    return batch.tickets_created, batch.tickets_updated, batch.holds_imported


@on_postgres
def test_both_paths_store_the_same_rows(world, monkeypatch) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 700)  # several chunks on both paths
    monkeypatch.setattr(bulk_postgres, "COPY_CHUNK", 1_000)
    tickets, holds = frames(2_500)
    copied = store(world, world.e1, tickets, holds, copy=True, monkeypatch=monkeypatch)
    generic = store(world, world.e2, tickets, holds, copy=False, monkeypatch=monkeypatch)
    assert counts(copied) == counts(generic) == (2_500, 0, holds.height)
    first = stored(world.e1)
    assert_frame_equal(first[0], stored(world.e2)[0])
    assert_frame_equal(first[1], stored(world.e2)[1])
    assert first[2] == stored(world.e2)[2]
    assert first[0].height == 2_500 and first[1].height == holds.height

    # A re-import overlapping the first: half its ids again with other values, half new.
    again, again_holds = frames(2_000, seed=5)
    again = again.with_columns(ticket_id=pl.col("ticket_id").str.replace("^T0", "T1"))
    again_holds = again_holds.with_columns(ticket_id=pl.col("ticket_id").str.replace("^T0", "T1"))
    overlap = pl.concat([frames(1_250, seed=9)[0], again.slice(0, 1_250)])
    overlap_holds = again_holds.filter(pl.col("ticket_id").is_in(overlap["ticket_id"].implode()))
    copied = store(world, world.e1, overlap, overlap_holds, copy=True, monkeypatch=monkeypatch)
    generic = store(world, world.e2, overlap, overlap_holds, copy=False, monkeypatch=monkeypatch)
    assert counts(copied) == counts(generic) == (1_250, 1_250, overlap_holds.height)
    second = stored(world.e1)
    assert_frame_equal(second[0], stored(world.e2)[0])
    assert_frame_equal(second[1], stored(world.e2)[1])
    assert second[2] == stored(world.e2)[2]
    assert not second[0].equals(first[0])


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "generic"])
def test_awkward_values_round_trip(world, monkeypatch, copy) -> None:
    tickets, holds = frames(400)
    store(world, world.e1, tickets, holds, copy=copy, monkeypatch=monkeypatch)
    back, back_holds, text = stored(world.e1)
    blank_as_null = [
        pl.when(pl.col(name) != "").then(pl.col(name)).alias(name)
        for name in ("priority_raw", "assignment_group", "category")
    ]
    assert_frame_equal(
        back, tickets.drop("short_description").with_columns(blank_as_null).sort("ticket_id")
    )
    assert_frame_equal(
        back_holds, holds.with_row_index().sort("ticket_id", "start", "index").drop("index")
    )
    assert set(text.values()) == {*AWKWARD, ""}
    assert Ticket.objects.filter(ticket_id__endswith="DROP TABLE service_ticket; --").exists()


@pytest.mark.parametrize("copy", [True, False], ids=["copy", "generic"])
def test_counts_are_exact_on_reimport(world, monkeypatch, copy) -> None:
    tickets, holds = frames(1_200)
    first = store(world, world.e1, tickets, holds, copy=copy, monkeypatch=monkeypatch)
    assert counts(first) == (1_200, 0, 1_200)
    same = store(world, world.e1, tickets, holds, copy=copy, monkeypatch=monkeypatch)
    assert counts(same) == (0, 1_200, 1_200)
    assert TicketHold.objects.count() == 1_200  # replaced, not added
    more = pl.concat([tickets.slice(600), frames(300, prefix="N")[0]])
    in_file = pl.col("ticket_id").is_in(more["ticket_id"].implode())
    kept = holds.filter(pl.col("end").is_not_null() & in_file)
    third = store(world, world.e1, more, kept, copy=copy, monkeypatch=monkeypatch)
    assert counts(third) == (300, 600, kept.height)
    # The first 600 tickets are not in the third file: they keep their holds.
    untouched = holds.filter(~in_file)
    assert TicketHold.objects.count() == kept.height + untouched.height
    assert Ticket.objects.filter(engagement=world.e1).count() == 1_500
    assert Ticket.objects.filter(batch=third).count() == 900


@on_postgres
def test_a_failure_midway_on_the_copy_path_leaves_nothing(world, monkeypatch) -> None:
    monkeypatch.setattr(bulk_postgres, "COPY_CHUNK", 500)
    tickets, holds = frames(2_000)
    half = tickets.slice(0, 1_000)
    half_holds = holds.filter(pl.col("ticket_id").is_in(half["ticket_id"].implode()))
    store(world, world.e1, half, half_holds, copy=True, monkeypatch=monkeypatch)
    before = stored(world.e1)

    def broken(percent: int, message: str) -> None:
        if message.startswith("500 of") and "holds" in message:  # more holds to come
            raise RuntimeError("connection lost")

    changed = tickets.with_columns(category=pl.lit("changed"))
    with pytest.raises(RuntimeError, match="connection lost"):
        import_tickets(
            engagement=world.e1,
            actor=world.it_lead,
            tickets=changed,
            holds=holds.filter(pl.col("end").is_null()),
            file_name="broken.csv",
            format="generic",
            time_zone="UTC",
            keep_text=True,
            progress=broken,
        )
    after = stored(world.e1)
    assert_frame_equal(after[0], before[0])
    assert_frame_equal(after[1], before[1])
    assert ImportBatch.objects.count() == 1
    # The staging tables went with the rollback: the next import creates them afresh.
    store(world, world.e1, changed, holds, copy=True, monkeypatch=monkeypatch)
    assert set(Ticket.objects.values_list("category", flat=True)) == {"changed"}


@on_postgres
def test_no_staging_table_outlives_the_import(world, monkeypatch) -> None:
    tickets, holds = frames(10)
    store(world, world.e1, tickets, holds, copy=True, monkeypatch=monkeypatch)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'tandem_import_%%'")
        assert cursor.fetchone()[0] == 0


@on_postgres
def test_a_first_import_takes_its_keys_from_the_sequence_in_file_order(world, monkeypatch) -> None:
    tickets, holds = frames(300)
    with connection.cursor() as cursor:
        drawn = bulk_postgres.reserve_pks(cursor, Ticket, 5)
    assert list(drawn) == list(range(drawn[0], drawn[0] + 5))
    store(world, world.e1, tickets, holds, copy=True, monkeypatch=monkeypatch)
    by_number = dict(Ticket.objects.values_list("ticket_id", "pk"))
    pks = [by_number[number] for number in tickets["ticket_id"]]
    assert pks == sorted(pks) and min(pks) > drawn[-1]
    # The ORM's next ticket draws from the same sequence: no key is handed out twice.
    batch = ImportBatch.objects.get()
    later = Ticket.objects.create(
        engagement=world.e1, batch=batch, ticket_id="LATER", opened_at=datetime.now(UTC)
    )
    assert later.pk > max(pks)
    # A ticket's holds carry its key, in file order.
    in_file_order = holds.with_row_index().sort("ticket_id", "start", "index").drop("index")
    assert_frame_equal(stored(world.e1)[1], in_file_order)


@on_postgres
def test_a_large_first_import_analyzes_both_tables_after_commit(
    world, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    monkeypatch.setattr(bulk_postgres, "ANALYZE_AFTER", 100)
    tickets, holds = frames(150)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        store(world, world.e1, tickets, holds, copy=True, monkeypatch=monkeypatch)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:  # a re-import: none
        store(world, world.e1, tickets, holds, copy=True, monkeypatch=monkeypatch)
    assert not callbacks


@on_postgres
def test_a_reimport_rewrites_only_the_holds_that_changed(world, monkeypatch) -> None:
    """The COPY path keeps a ticket's stored holds when the file has exactly them, in the
    same order; any other ticket of the file has its holds replaced. What reads back is
    what the generic path (which replaces them all) stores."""
    monkeypatch.setattr(bulk_postgres, "COPY_CHUNK", 40)
    tickets, holds = frames(300)
    for engagement, copy in ((world.e1, True), (world.e2, False)):
        store(world, engagement, tickets, holds, copy=copy, monkeypatch=monkeypatch)
    before = dict(
        TicketHold.objects.filter(engagement=world.e1).values_list("pk", "ticket__ticket_id")
    )
    ids = tickets["ticket_id"]
    # Each ticket with holds has three, the first two tied on start (frames()).
    shifted, swapped, dropped, emptied = ids[0], ids[3], ids[6], ids[9]
    gained = ids[1]  # had none
    ticket = pl.col("ticket_id")
    rows = holds.with_row_index("n")
    later = (
        rows.filter(ticket == shifted)
        .sort("n")
        .with_columns(
            end=pl.when(pl.int_range(pl.len()) == 2)
            .then(pl.col("end") + timedelta(seconds=1))
            .otherwise(pl.col("end"))
        )
    )
    tie = rows.filter(ticket == swapped).sort("n")
    tie = tie.with_columns(n=tie["n"].gather([1, 0, 2]))  # the tie, in the other order
    fewer = rows.filter(ticket == dropped).sort("n").head(2)
    extra = pl.DataFrame(
        {"n": [10**6], "ticket_id": [gained], "start": [datetime(2025, 3, 1, tzinfo=UTC)],
         "end": [None]},
        schema={"n": pl.UInt32, **HOLDS},
    )  # fmt: skip
    touched = [shifted, swapped, dropped, emptied, gained]
    new_holds = (
        pl.concat([rows.filter(~ticket.is_in(touched)), later, tie, fewer, extra])
        .sort("n", maintain_order=True)
        .drop("n")
    )
    for engagement, copy in ((world.e1, True), (world.e2, False)):
        batch = store(world, engagement, tickets, new_holds, copy=copy, monkeypatch=monkeypatch)
        assert counts(batch) == (0, 300, new_holds.height)
    copied, generic = stored(world.e1), stored(world.e2)
    assert_frame_equal(copied[1], generic[1])
    assert_frame_equal(
        copied[1], new_holds.with_row_index().sort("ticket_id", "start", "index").drop("index")
    )
    after = dict(
        TicketHold.objects.filter(engagement=world.e1).values_list("pk", "ticket__ticket_id")
    )
    kept = {pk for pk in after if pk in before}
    assert {after[pk] for pk in kept}.isdisjoint(touched)
    assert len(kept) == holds.filter(~ticket.is_in(touched)).height  # the rest untouched
    assert {after[pk] for pk in after.keys() - kept} == {shifted, swapped, dropped, gained}
    assert Ticket.objects.filter(engagement=world.e1, batch__file_name="export.csv").count() == 300
