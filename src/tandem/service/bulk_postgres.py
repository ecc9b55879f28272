"""The PostgreSQL write path of an import: COPY, straight into the tables when it can.

**First import** (the engagement has no ticket yet, the usual case for a large file): every
row is new, so the rows go straight into the ticket and hold tables by COPY, with nothing
in between. The tickets' primary keys are taken from the table's identity sequence
beforehand (one statement reserves them all), so each hold is COPYed with its ticket's pk
already in place: no staging table, no join, no ids read back. What PostgreSQL still does
per row is what the data needs: the unique (engagement, ticket_id) and the other indexes,
the check constraints, the engagement's foreign key (ADR 0002 says why the others have
none). Should another import add one of these ticket ids meanwhile, the unique constraint
refuses it and this whole import rolls back: nothing is ever half-written. After a large
first import the two tables are analyzed once the transaction commits, so that the SLA run
that usually follows plans with statistics that know the engagement's rows.

**Any other import** (re-import, or new tickets mixed with known ones): per chunk of
``COPY_CHUNK`` tickets, COPY the rows into a temporary staging table, then one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` upserts them all and counts the new ones
(``xmax = 0`` marks a row the statement inserted rather than updated). Then the stored
holds of the tickets the import wrote are read back (one COPY out) and compared with the
file's (``changed_holds``): a ticket whose stored holds are exactly the file's, in the same
order, keeps them untouched. Only the other tickets have their holds deleted, in one
statement, and the file's holds for them COPYed to a second staging table per chunk and
inserted with their ticket's pk looked up by a join on ``(engagement, ticket_id)``. What
reads back is what replacing every hold would leave (``test_bulk``); a re-import of an
overlapping export, where most holds are as they were, writes far fewer rows.

The rows are serialized by Polars (``write_csv``, in Rust) and streamed with psycopg 3's
``cursor.copy``: no Python object per value, and memory bounded by one chunk's CSV.
Strings are always quoted and nulls never, so COPY tells an empty string from a null.

Staging tables are temporary, created inside the import's transaction and dropped at its
end (``ON COMMIT DROP`` as well, for a transaction left open by the caller); a rollback
takes them away with everything else.

Not done, on purpose: ``SET LOCAL synchronous_commit = off``. It would let COMMIT return
before the import's WAL reaches the disk, so a crash in the next moment could lose an
import that Tandem had already reported (and audited) as stored; and it would save little,
since only the final flush waits (ADR 0002).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from django.db import connection, transaction

from tandem.service.bulk import (
    HOLD_FIELDS,
    TICKET_FIELDS,
    Progress,
    Written,
    holds_progress,
    quoted,
    table,
    tickets_progress,
    upsert_tail,
)
from tandem.service.models import Ticket, TicketHold

#: Rows per COPY and per upsert: large enough that per-statement costs vanish, small
#: enough that one chunk's CSV stays a few megabytes and the progress bar moves.
COPY_CHUNK = 50_000

#: A first import of at least this many tickets analyzes both tables after its commit
#: (autovacuum would, within a minute or so; a smaller import hardly moves the statistics).
ANALYZE_AFTER = 100_000

_TICKET_STAGE = "tandem_import_tickets"
_HOLD_STAGE = "tandem_import_holds"
_CHANGED_STAGE = "tandem_import_changed"


def write(
    batch_id: int,
    engagement_id: int,
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    report: Progress,
) -> Written:
    """``bulk.write`` on PostgreSQL; see the module docstring."""
    [engagement_column] = quoted(Ticket, "engagement")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT NOT EXISTS (SELECT FROM {table(Ticket)} WHERE {engagement_column} = %s)",
            [engagement_id],
        )
        first_import = cursor.fetchone()[0]
    if first_import:
        return _write_first(batch_id, engagement_id, tickets, holds, report)
    return _write_upsert(batch_id, engagement_id, tickets, holds, report)


def _write_first(
    batch_id: int,
    engagement_id: int,
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    report: Progress,
) -> Written:
    """Into an engagement with no ticket yet: COPY straight into both tables."""
    # In file order. Sorting by opening time was tried: the (engagement, opened_at) index
    # then grows at its end but the (engagement, ticket_id) one at random places unless
    # numbers follow opening time, and no gain showed in bench/import_tickets.py.
    with connection.cursor() as cursor:
        pks = reserve_pks(cursor, Ticket, tickets.height)
        rows = tickets.select(
            pl.Series("_pk", pks),
            pl.lit(engagement_id).alias("_engagement"),
            pl.lit(batch_id).alias("_batch"),
            *TICKET_FIELDS,
        )
        columns = quoted(Ticket, "id", "engagement", "batch", *TICKET_FIELDS)
        done = 0
        for chunk in rows.iter_slices(COPY_CHUNK):
            _copy(cursor, table(Ticket), columns, chunk)
            done += chunk.height
            tickets_progress(report, done, tickets.height)

        # Every hold's ticket is in the file (checked before), so the join finds each one.
        # Holds go in their tickets' order (the (ticket, start) index grows at its end),
        # and a ticket's own holds in file order: they get their pks in that order, as on
        # the other paths, so ties in (ticket, start) read back the same.
        hold_rows = (
            holds.join(
                rows.select("ticket_id", "_pk"), on="ticket_id", how="left", maintain_order="left"
            )
            .sort("_pk", maintain_order=True)
            .select(pl.lit(engagement_id).alias("_engagement"), "_pk", *HOLD_FIELDS)
        )
        hold_columns = quoted(TicketHold, "engagement", "ticket", *HOLD_FIELDS)
        done = 0
        for chunk in hold_rows.iter_slices(COPY_CHUNK):
            _copy(cursor, table(TicketHold), hold_columns, chunk)
            done += chunk.height
            holds_progress(report, done, holds.height)
    if tickets.height >= ANALYZE_AFTER:
        transaction.on_commit(_analyze)
    return Written(created=tickets.height, holds=holds.height)


def reserve_pks(cursor, model: type[Ticket], count: int) -> np.ndarray:
    """``count`` new primary keys for ``model``, drawn from its identity sequence.

    One statement draws them all; they are the sequence's to give, so an ORM insert running
    at the same time simply gets others. They come back as runs of consecutive values
    (almost always a single run: another session must draw from the same sequence within
    the same instant to split it), so the statement returns a few rows, not ``count``.
    """
    if not count:
        return np.empty(0, dtype=np.int64)
    cursor.execute(
        "SELECT pg_get_serial_sequence(%s, %s)",
        [model._meta.db_table, model._meta.pk.column],
    )
    [sequence] = cursor.fetchone()
    cursor.execute(
        "SELECT MIN(pk), MAX(pk), COUNT(*) FROM ("
        "  SELECT pk, pk - ROW_NUMBER() OVER () AS run"
        "  FROM (SELECT nextval(%s::regclass) AS pk FROM generate_series(1, %s)) AS drawn"
        ") AS numbered GROUP BY run",
        [sequence, count],
    )
    runs = cursor.fetchall()
    # A run is consecutive by construction; the check costs nothing and guards the ids.
    if sum(size for _, _, size in runs) != count or any(
        high - low + 1 != size for low, high, size in runs
    ):
        raise RuntimeError(f"reserving {count:,} keys from {sequence} went wrong: {runs}")
    return np.concatenate([np.arange(low, high + 1, dtype=np.int64) for low, high, _ in runs])


def _analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table(Ticket)}, {table(TicketHold)}")


def _write_upsert(
    batch_id: int,
    engagement_id: int,
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    report: Progress,
) -> Written:
    """Into an engagement that has tickets: staging tables and set-based upserts."""
    q = connection.ops.quote_name
    ticket_stage, hold_stage, changed_stage = q(_TICKET_STAGE), q(_HOLD_STAGE), q(_CHANGED_STAGE)
    ticket_columns = quoted(Ticket, *TICKET_FIELDS)
    stage_list = ", ".join(ticket_columns)
    engagement_column, batch_column = quoted(Ticket, "engagement", "batch")
    insert = (
        f"INSERT INTO {table(Ticket)} ({engagement_column}, {batch_column}, {stage_list}) "
        f"SELECT %s, %s, {stage_list} FROM {ticket_stage}"
    )
    upsert = (
        f"WITH written AS ({insert} {upsert_tail()} RETURNING (xmax = 0) AS inserted) "
        f"SELECT COUNT(*) FILTER (WHERE inserted) FROM written"
    )
    pk, engagement, number = quoted(Ticket, "id", "engagement", "ticket_id")
    start, end = quoted(TicketHold, *HOLD_FIELDS)
    hold_columns = quoted(TicketHold, "engagement", "ticket", *HOLD_FIELDS)
    insert_holds = (
        f"INSERT INTO {table(TicketHold)} ({', '.join(hold_columns)}) "
        f"SELECT t.{engagement}, t.{pk}, s.{start}, s.{end} "
        f"FROM {hold_stage} s JOIN {table(Ticket)} t "
        f"ON t.{engagement} = %s AND t.{number} = s.{number} "
        # In their tickets' order, as a first import writes them, and a ticket's own holds
        # in file order, as the generic path gives them pks: ties in (ticket, start) then
        # read back in the same order on every path.
        f"ORDER BY t.{pk}, s.ord"
    )
    [hold_ticket] = quoted(TicketHold, "ticket")
    delete_holds = (
        f"DELETE FROM {table(TicketHold)} h USING {table(Ticket)} t, {changed_stage} c "
        f"WHERE h.{hold_ticket} = t.{pk} AND t.{engagement} = %s AND t.{number} = c.{number}"
    )
    with connection.cursor() as cursor:
        # The ticket table's own column types (no constraints, no defaults): the COPY
        # parses each value exactly as an INSERT into the real table would.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {ticket_stage} ON COMMIT DROP AS "
            f"SELECT {stage_list} FROM {table(Ticket)} WITH NO DATA"
        )
        cursor.execute(
            f"CREATE TEMPORARY TABLE {hold_stage} ON COMMIT DROP AS "
            f"SELECT t.{number}, h.{start}, h.{end}, 0::bigint AS ord "
            f"FROM {table(TicketHold)} h CROSS JOIN {table(Ticket)} t WITH NO DATA"
        )
        created = done = 0
        for chunk in tickets.select(TICKET_FIELDS).iter_slices(COPY_CHUNK):
            cursor.execute(f"TRUNCATE {ticket_stage}")
            _copy(cursor, ticket_stage, ticket_columns, chunk)
            cursor.execute(upsert, [engagement_id, batch_id])
            created += cursor.fetchone()[0]
            done += chunk.height
            tickets_progress(report, done, tickets.height)

        # Holds: only the tickets whose stored holds are not already the file's get theirs
        # replaced (a re-import of an overlapping export leaves most of them as they are).
        changed = changed_holds(cursor, batch_id, engagement_id, holds)
        ordered = holds.select("ticket_id", *HOLD_FIELDS).with_row_index("ord")
        ordered = ordered.filter(pl.col("ticket_id").is_in(changed.implode()))
        holds_progress(report, holds.height - ordered.height, holds.height)
        if changed.len():
            cursor.execute(
                f"CREATE TEMPORARY TABLE {changed_stage} ON COMMIT DROP AS "
                f"SELECT {number} FROM {table(Ticket)} WITH NO DATA"
            )
            for chunk in changed.to_frame().iter_slices(COPY_CHUNK):
                _copy(cursor, changed_stage, [number], chunk)
            cursor.execute(f"ANALYZE {changed_stage}")
            cursor.execute(delete_holds, [engagement_id])
        stored = holds.height - ordered.height
        for chunk in ordered.select(pl.exclude("ord"), "ord").iter_slices(COPY_CHUNK):
            cursor.execute(f"TRUNCATE {hold_stage}")
            _copy(cursor, hold_stage, [number, start, end, q("ord")], chunk)
            # Fresh statistics let the planner pick index lookups into the ticket table
            # over a scan of every ticket of the engagement.
            cursor.execute(f"ANALYZE {hold_stage}")
            cursor.execute(insert_holds, [engagement_id])
            stored += cursor.rowcount
            holds_progress(report, stored, holds.height)
        cursor.execute(f"DROP TABLE IF EXISTS {ticket_stage}, {hold_stage}, {changed_stage}")
    return Written(created=created, holds=stored)


def changed_holds(cursor, batch_id: int, engagement_id: int, holds: pl.DataFrame) -> pl.Series:
    """The ids of the tickets this import wrote whose stored holds are not the file's.

    A ticket's stored holds, in pk order, are compared with its holds in the file, in file
    order (the order a replacement would give them pks in, so that ties on start read back
    alike): another count, another start or end at any place, or another order, and the
    ticket is listed. A ticket with no hold on either side is not. Read after the tickets'
    upsert: this transaction holds their row locks, so no other import can change their
    holds until it commits.
    """
    hold, ticket = table(TicketHold), table(Ticket)
    pk, engagement, number, batch = quoted(Ticket, "id", "engagement", "ticket_id", "batch")
    hold_pk, hold_engagement, hold_ticket = quoted(TicketHold, "id", "engagement", "ticket")
    start, end = quoted(TicketHold, *HOLD_FIELDS)
    # Microseconds since the epoch: exact (PostgreSQL keeps microseconds), whatever the
    # session's time zone or date style.
    micros = [f"(EXTRACT(EPOCH FROM h.{c}) * 1000000)::bigint" for c in (start, end)]
    query = (
        f"SELECT t.{number}, {', '.join(micros)}, h.{hold_pk} FROM {hold} h "
        f"JOIN {ticket} t ON t.{pk} = h.{hold_ticket} "
        f"WHERE h.{hold_engagement} = {int(engagement_id)} AND t.{engagement} = "
        f"{int(engagement_id)} AND t.{batch} = {int(batch_id)}"
    )
    data = bytearray()
    with (
        connection.wrap_database_errors,
        cursor.copy(f"COPY ({query}) TO STDOUT (FORMAT csv)") as copy,
    ):
        for block in copy:
            data += block
    schema = {"ticket_id": pl.String, "start": pl.Int64, "end": pl.Int64, "pk": pl.Int64}
    stored = (
        pl.read_csv(bytes(data), has_header=False, new_columns=list(schema), schema=schema)
        if data
        else pl.DataFrame(schema=schema)
    )
    stored = stored.sort("pk").drop("pk")  # sorted here: cheaper than by the server
    in_file = holds.select(
        "ticket_id", pl.col("start").dt.epoch("us"), pl.col("end").dt.epoch("us")
    )

    def placed(frame: pl.DataFrame) -> pl.DataFrame:  # each hold's place within its ticket
        return frame.with_columns(place=pl.int_range(pl.len()).over("ticket_id"))

    both = placed(in_file).join(
        placed(stored), on=["ticket_id", "place"], how="full", coalesce=True, suffix="_stored"
    )
    differs = (
        pl.col("start").is_null()
        | pl.col("start_stored").is_null()
        | (pl.col("start") != pl.col("start_stored"))
        | pl.col("end").ne_missing(pl.col("end_stored"))
    )
    return both.filter(differs).get_column("ticket_id").unique(maintain_order=True)


def _copy(cursor, stage: str, columns: list[str], chunk: pl.DataFrame) -> None:
    """COPY ``chunk`` (its columns in the order of ``columns``) into the table ``stage``."""
    data = chunk.write_csv(
        include_header=False,
        quote_style="non_numeric",  # every string quoted: "" is empty, a bare field null
        datetime_format="%Y-%m-%dT%H:%M:%S%.6f%z",
    )
    # Django wraps errors of ``execute`` only: a constraint the COPY breaks must surface as
    # the same ``IntegrityError`` an INSERT would raise.
    with (
        connection.wrap_database_errors,
        cursor.copy(f"COPY {stage} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write(data.encode())
