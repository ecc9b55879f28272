"""Writing one import's checked frames: the upsert of its tickets and the replacement of
their holds, on whichever database Tandem runs.

``write`` picks the path. On PostgreSQL it is ``bulk_postgres`` (COPY straight into the
tables on an engagement's first import; otherwise COPY into a staging table, then one
set-based upsert per chunk): building SQL for a million model instances cost two thirds
of an import, and COPY sends the rows with no SQL at all. Any
other database (SQLite by default) takes the generic path below: one prepared
``INSERT ... ON CONFLICT`` run with ``executemany`` per chunk, which skips model instances
too and runs on every backend that knows ``ON CONFLICT`` (SQLite 3.24+, PostgreSQL).

Both paths leave exactly the same rows (``test_bulk`` compares them on PostgreSQL). Neither
writes an audit record nor opens a transaction: ``services.import_tickets`` does both
around the call, so an error anywhere undoes every chunk already written.

Identifiers come from the models' ``_meta`` quoted by ``connection.ops.quote_name``; values
only ever travel as query parameters or COPY data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from django.db import connection

from tandem.analytics.frames import HOLDS, TICKETS
from tandem.service.models import Ticket, TicketHold

Progress = Callable[[int, str], None]

#: Rows per ``executemany`` on the generic path: the progress bar moves this often.
CHUNK = 4_000
#: Use the COPY path on PostgreSQL. Tests switch it off to run the generic path there too
#: and compare the two.
USE_COPY = True

#: The ticket frame's columns that are stored, in the order the statements list them.
TICKET_FIELDS = [*TICKETS, "short_description"]
#: What a re-import overwrites on an existing ticket: everything but its identity.
UPDATE_FIELDS = [name for name in TICKET_FIELDS if name != "ticket_id"] + ["batch"]
HOLD_FIELDS = [name for name in HOLDS if name != "ticket_id"]


@dataclass(frozen=True)
class Written:
    """What one import changed: tickets created (the rest were updated), holds inserted."""

    created: int
    holds: int


def write(
    batch_id: int,
    engagement_id: int,
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    report: Progress,
) -> Written:
    """Upsert ``tickets`` into the engagement and replace their holds by ``holds``.

    Progress: 0-80 % while tickets are stored, 80-99 % while holds are.
    """
    if USE_COPY and connection.vendor == "postgresql":
        # Imported here: bulk_postgres builds on the helpers below.
        from tandem.service import bulk_postgres

        return bulk_postgres.write(batch_id, engagement_id, tickets, holds, report)
    return _write_generic(batch_id, engagement_id, tickets, holds, report)


# Shared by both paths -----------------------------------------------------------------------


def quoted(model: type[Ticket] | type[TicketHold], *names: str) -> list[str]:
    """The quoted column of each named field of ``model`` (``batch`` -> ``"batch_id"``)."""
    return [connection.ops.quote_name(model._meta.get_field(name).column) for name in names]


def table(model: type[Ticket] | type[TicketHold]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def upsert_tail() -> str:
    """``ON CONFLICT (engagement, ticket_id) DO UPDATE SET ...``: a re-import updates."""
    identity = ", ".join(quoted(Ticket, "engagement", "ticket_id"))
    updates = ", ".join(
        f"{column} = EXCLUDED.{column}" for column in quoted(Ticket, *UPDATE_FIELDS)
    )
    return f"ON CONFLICT ({identity}) DO UPDATE SET {updates}"


def delete_holds_sql() -> str:
    """Delete the holds of every ticket this import wrote (parameter: the batch's id).

    A plain DELETE: ``QuerySet.delete()`` would load every hold to send delete signals.
    Holds have no dependants and are audited with their import, not one by one.
    """
    ticket, hold = table(Ticket), table(TicketHold)
    pk, batch = quoted(Ticket, "id", "batch")
    [hold_ticket] = quoted(TicketHold, "ticket")
    return (
        f"DELETE FROM {hold} WHERE {hold_ticket} IN (SELECT {pk} FROM {ticket} WHERE {batch} = %s)"
    )


def tickets_progress(report: Progress, done: int, total: int) -> None:
    report(int(80 * done / max(total, 1)), f"{done:,} of {total:,} tickets stored")


def holds_progress(report: Progress, done: int, total: int) -> None:
    report(80 + int(19 * done / max(total, 1)), f"{done:,} of {total:,} holds stored")


# The generic path -----------------------------------------------------------------------------


def _write_generic(
    batch_id: int,
    engagement_id: int,
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    report: Progress,
) -> Written:
    ticket_table = table(Ticket)
    columns = quoted(Ticket, "engagement", "batch", *TICKET_FIELDS)
    insert_ticket = (
        f"INSERT INTO {ticket_table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) {upsert_tail()}"
    )
    [engagement_column] = quoted(Ticket, "engagement")
    count = f"SELECT COUNT(*) FROM {ticket_table} WHERE {engagement_column} = %s"
    with connection.cursor() as cursor:
        cursor.execute(count, [engagement_id])
        before = cursor.fetchone()[0]
        rows = _database_values(tickets.select(TICKET_FIELDS)).select(
            pl.lit(engagement_id).alias("_engagement"), pl.lit(batch_id).alias("_batch"), pl.all()
        )
        done = 0
        for chunk in rows.iter_slices(CHUNK):
            cursor.executemany(insert_ticket, list(chunk.iter_rows()))
            done += chunk.height
            tickets_progress(report, done, tickets.height)
        cursor.execute(count, [engagement_id])
        created = cursor.fetchone()[0] - before

        cursor.execute(delete_holds_sql(), [batch_id])
        # Each hold finds its ticket's pk by the (engagement, ticket_id) unique index, in
        # the database: no round trip to read a million pks back.
        hold_columns = quoted(TicketHold, "engagement", "ticket", *HOLD_FIELDS)
        pk, engagement, number = quoted(Ticket, "id", "engagement", "ticket_id")
        insert_hold = (
            f"INSERT INTO {table(TicketHold)} ({', '.join(hold_columns)}) "
            f"SELECT {engagement}, {pk}, %s, %s FROM {ticket_table} "
            f"WHERE {engagement} = %s AND {number} = %s"
        )
        values = _database_values(holds).select(
            *HOLD_FIELDS, pl.lit(engagement_id).alias("_engagement"), "ticket_id"
        )
        done = 0
        for chunk in values.iter_slices(CHUNK):
            cursor.executemany(insert_hold, list(chunk.iter_rows()))
            done += chunk.height
            holds_progress(report, done, holds.height)
    return Written(created=created, holds=holds.height)


def _database_values(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with instants the way the connection takes them as raw parameters.

    A database without time zones (SQLite) stores naive instants in the connection's zone,
    which Django's ORM converts to on every write; raw ``executemany`` must do the same, or
    SQLite's adapter would store a ``+00:00`` suffix the ORM never writes.
    """
    if connection.features.supports_timezones:
        return frame
    zone = connection.timezone_name
    return frame.with_columns(
        pl.col(pl.Datetime).dt.convert_time_zone(zone).dt.replace_time_zone(None)
    )
