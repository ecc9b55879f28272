"""The PostgreSQL write path of an import: COPY into staging tables, then set-based SQL.

Per chunk of ``COPY_CHUNK`` tickets: COPY the rows into a temporary staging table, then one
``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` upserts them all and counts the new ones
(``xmax = 0`` marks a row the statement inserted rather than updated); a plain INSERT when
the engagement has no ticket yet. Then the holds of
every ticket the import wrote are deleted in one statement, and the file's holds are
COPYed to a second staging table per chunk and inserted with their ticket's pk looked up by
a join on ``(engagement, ticket_id)``: the ids never travel back to Python.

The rows are serialized by Polars (``write_csv``, in Rust) and streamed with psycopg 3's
``cursor.copy``: no Python object per value, and memory bounded by one chunk's CSV.
Strings are always quoted and nulls never, so COPY tells an empty string from a null.

Staging tables are temporary, created inside the import's transaction and dropped at its
end (``ON COMMIT DROP`` as well, for a transaction left open by the caller); a rollback
takes them away with everything else.
"""

from __future__ import annotations

import polars as pl
from django.db import connection

from tandem.service.bulk import (
    HOLD_FIELDS,
    TICKET_FIELDS,
    Progress,
    Written,
    delete_holds_sql,
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

_TICKET_STAGE = "tandem_import_tickets"
_HOLD_STAGE = "tandem_import_holds"


def write(
    batch_id: int,
    engagement_id: int,
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    report: Progress,
) -> Written:
    """``bulk.write`` on PostgreSQL; see the module docstring."""
    q = connection.ops.quote_name
    ticket_stage, hold_stage = q(_TICKET_STAGE), q(_HOLD_STAGE)
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
        # Holds get their pks in file order, as the generic path gives them: ties in
        # (ticket, start) then read back in the same order on both paths.
        f"ORDER BY s.ord"
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
        # Into an engagement with no ticket yet, every row is new (ids are unique in a file):
        # a plain INSERT skips ON CONFLICT's speculative insertion, a quarter faster. Should
        # another import add one of these ids meanwhile, the unique constraint refuses it
        # and this whole import rolls back: nothing is ever half-written.
        cursor.execute(
            f"SELECT NOT EXISTS (SELECT FROM {table(Ticket)} WHERE {engagement_column} = %s)",
            [engagement_id],
        )
        first_import = cursor.fetchone()[0]
        created = done = 0
        for chunk in tickets.select(TICKET_FIELDS).iter_slices(COPY_CHUNK):
            cursor.execute(f"TRUNCATE {ticket_stage}")
            _copy(cursor, ticket_stage, ticket_columns, chunk)
            if first_import:
                cursor.execute(insert, [engagement_id, batch_id])
                created += cursor.rowcount
            else:
                cursor.execute(upsert, [engagement_id, batch_id])
                created += cursor.fetchone()[0]
            done += chunk.height
            tickets_progress(report, done, tickets.height)

        cursor.execute(delete_holds_sql(), [batch_id])
        stored = 0
        ordered = holds.select("ticket_id", *HOLD_FIELDS).with_row_index("ord")
        for chunk in ordered.select(pl.exclude("ord"), "ord").iter_slices(COPY_CHUNK):
            cursor.execute(f"TRUNCATE {hold_stage}")
            _copy(cursor, hold_stage, [number, start, end, q("ord")], chunk)
            # Fresh statistics let the planner pick index lookups into the ticket table
            # over a scan of every ticket of the engagement.
            cursor.execute(f"ANALYZE {hold_stage}")
            cursor.execute(insert_holds, [engagement_id])
            stored += cursor.rowcount
            holds_progress(report, stored, holds.height)
        cursor.execute(f"DROP TABLE {ticket_stage}, {hold_stage}")
    return Written(created=created, holds=stored)


def _copy(cursor, stage: str, columns: list[str], chunk: pl.DataFrame) -> None:
    """COPY ``chunk`` (its columns in the order of ``columns``) into ``stage``."""
    data = chunk.write_csv(
        include_header=False,
        quote_style="non_numeric",  # every string quoted: "" is empty, a bare field null
        datetime_format="%Y-%m-%dT%H:%M:%S%.6f%z",
    )
    with cursor.copy(f"COPY {stage} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(data.encode())
