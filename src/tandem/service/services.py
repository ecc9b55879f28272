"""Storing imported tickets, and reading them back for the SLA engine.

``import_tickets`` is the one way tickets and holds enter the database. It takes the
canonical frames ``tandem.ingest`` produces (schemas in ``tandem.analytics.frames``) and
stores them all-or-nothing, in one transaction, with one audit record for the whole import.
``ticket_frames`` turns an engagement's stored tickets back into those frames.

How the rows are written (COPY on PostgreSQL, prepared upserts elsewhere) is ``bulk``'s
business; this module checks, records and audits.

Whatever reads an export (the import wizard, the ``import_tickets`` command, the demo)
calls ``import_tickets(engagement=..., actor=..., tickets=..., holds=..., ...)`` with the
reader's output; this module never reads files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

import polars as pl
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from tandem.analytics.frames import HOLDS, TICKETS, UTC_INSTANT
from tandem.core import audit
from tandem.core.access import can_add
from tandem.core.choices import AuditAction, AuditSource
from tandem.core.models import Engagement, User
from tandem.core.services import NotAllowed
from tandem.service import bulk
from tandem.service.choices import ImportStatus, Priority, TicketKind
from tandem.service.models import ImportBatch, Ticket, TicketHold

Progress = Callable[[int, str], None]

#: Rows fetched per round trip when reading tickets back.
READ_CHUNK = 20_000

#: Free-text columns a tickets frame may carry besides the canonical ones; stored only when
#: the import keeps text (they may hold patient information).
TEXT_COLUMNS: dict[str, pl.DataType] = {"short_description": pl.String()}

# Text columns the database keeps as "" when empty, and that read back as null.
_BLANK_AS_NULL = ("priority_raw", "assignment_group", "category")
# The longest value each bounded text column holds (the model's max_length).
_MAX_LENGTH = {
    name: Ticket._meta.get_field(name).max_length
    for name in ("ticket_id", "priority_raw", "assignment_group", "category")
}


class ImportRefused(ValueError):
    """The frames cannot be stored as given; nothing was written. The message says why."""


def import_tickets(
    *,
    engagement: Engagement,
    actor: User | None,
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    file_name: str,
    format: str,
    time_zone: str,
    mapping: dict[str, Any] | None = None,
    keep_text: bool = False,
    warnings: Sequence[str] = (),
    progress: Progress | None = None,
) -> ImportBatch:
    """Store one export's tickets and holds in ``engagement``; return the import's record.

    New ticket ids are created, ids already in the engagement are updated, and every ticket
    in the file has its holds replaced by the file's. All of it happens in one transaction:
    an error anywhere leaves the database as it was. ``actor`` is the person importing
    (``None``: the system, for trusted callers such as the demo loader).
    """
    if actor is not None and not can_add(actor, ImportBatch, engagement):
        raise NotAllowed("Your role in this engagement may not import tickets.")
    tickets, holds = checked_frames(tickets, holds, keep_text=keep_text)
    batch = ImportBatch(
        engagement=engagement,
        file_name=file_name[:255],
        format=format,
        time_zone=time_zone,
        mapping=mapping or {},
        keep_text=keep_text,
        rows_read=tickets.height,
        warnings=list(warnings),
        status=ImportStatus.IMPORTED,
        imported_by=actor,
    )
    try:
        batch.full_clean(exclude=["engagement", "imported_by"])
    except ValidationError as exc:
        problems = "; ".join(f"{name}: {' '.join(m)}" for name, m in exc.message_dict.items())
        raise ImportRefused(f"import of {file_name}: {problems}") from exc
    report = progress or _silent
    outer = audit.current()
    with (
        audit.audit_context(
            source=AuditSource.IMPORT, user=actor, client_address=outer.client_address
        ) as context,
        transaction.atomic(),
    ):
        context.request_id = outer.request_id  # one request's changes stay grouped
        lock_engagement(engagement)
        # Written without the per-save audit hook and recorded once, below, with its final
        # counts: one audit record per import, whatever its size.
        ImportBatch.objects.bulk_create([batch])
        written = bulk.write(batch.pk, engagement.pk, tickets, holds, report)
        batch.holds_imported = written.holds
        batch.tickets_created = written.created
        batch.tickets_updated = tickets.height - written.created
        batch.finished_at = timezone.now()
        ImportBatch.objects.filter(pk=batch.pk).update(
            tickets_created=batch.tickets_created,
            tickets_updated=batch.tickets_updated,
            holds_imported=batch.holds_imported,
            finished_at=batch.finished_at,
        )
        audit.record(
            batch,
            action=AuditAction.CREATE,
            before=None,
            after=audit.snapshot(batch),
            message=summary(batch),
        )
    report(100, summary(batch))
    return batch


def lock_engagement(engagement: Engagement) -> None:
    """Hold the engagement's row until the import's transaction ends; refuse if it is gone.

    Tickets and holds have no database foreign key to their engagement (ADR 0002). Instead,
    on PostgreSQL the import takes ``FOR KEY SHARE`` on the engagement row, the lock the
    foreign key's own check took: imports into any engagements (the same one too) and
    edits of the engagement go on beside it, but a deletion, which first takes
    ``FOR UPDATE`` (``tandem.core.models.engagements.lock_for_deletion``), waits for the
    import to commit and then deletes what it wrote. An import that waited for a deletion
    finds no row and is refused with nothing written. SQLite has one writer at a time: a
    plain read is all it needs.
    """
    lock = " FOR KEY SHARE" if connection.vendor == "postgresql" else ""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {quote(Engagement._meta.db_table)} "
            f"WHERE {quote(Engagement._meta.pk.column)} = %s{lock}",
            [engagement.pk],
        )
        if cursor.fetchone() is None:
            raise ImportRefused(f"the engagement {engagement} no longer exists")


def summary(batch: ImportBatch) -> str:
    """``imported 12,345 tickets (12,000 new, 345 updated), 4,000 holds from f.csv``."""
    return (
        f"imported {batch.rows_read:,} tickets ({batch.tickets_created:,} new, "
        f"{batch.tickets_updated:,} updated), {batch.holds_imported:,} holds "
        f"from {batch.file_name}"
    )


def _silent(percent: int, message: str) -> None:
    return None


# Checking the frames ---------------------------------------------------------------------


def checked_frames(
    tickets: pl.DataFrame, holds: pl.DataFrame, *, keep_text: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The frames, in the exact canonical types, ready to store; ``ImportRefused`` otherwise.

    The readers in ``tandem.ingest`` report bad rows with file, row and column; this is the
    storage side's own guard, so that nothing malformed reaches the database whoever calls.
    Rows are numbered from 1 in the frame.
    """
    extra = dict(TEXT_COLUMNS)
    tickets = _conform("tickets", tickets, TICKETS, extra)
    holds = _conform("holds", holds, HOLDS, {})
    if not keep_text or "short_description" not in tickets.columns:
        tickets = tickets.drop("short_description", strict=False).with_columns(
            short_description=pl.lit("", dtype=pl.String)
        )
    tickets = tickets.with_columns(
        [pl.col(name).fill_null("") for name in (*_BLANK_AS_NULL, "short_description")]
    )
    id_ = pl.col("ticket_id")
    _refuse_rows("tickets", tickets, id_.is_null() | (id_ == ""), "have no ticket_id")
    # Counting distinct ids is five times cheaper than marking duplicates: mark them only
    # when there are some, to say which.
    if tickets["ticket_id"].n_unique() != tickets.height:
        _refuse_rows("tickets", tickets, id_.is_duplicated(), "repeat a ticket_id")
    _refuse_rows("tickets", tickets, pl.col("opened_at").is_null(), "have no opened_at")
    _refuse_rows(
        "tickets",
        tickets,
        pl.col("resolved_at") < pl.col("opened_at"),
        "have resolved_at before opened_at",
    )
    _refuse_rows(
        "tickets",
        tickets,
        pl.col("kind").is_null() | ~pl.col("kind").is_in(TicketKind.values),
        f"have a kind other than {', '.join(TicketKind.values)}",
    )
    _refuse_rows(
        "tickets",
        tickets,
        ~pl.col("priority").is_in(Priority.values),  # null stays null: allowed
        "have a priority other than P1-P4 or empty",
    )
    for name in ("reassignment_count", "reopen_count"):
        _refuse_rows("tickets", tickets, pl.col(name) < 0, f"have a negative {name}")
    for name, limit in _MAX_LENGTH.items():
        too_long = pl.col(name).str.len_chars() > limit
        _refuse_rows("tickets", tickets, too_long, f"have a {name} over {limit} characters")
    # Likewise an anti-join finds holds of no ticket faster than a membership test does.
    if holds.join(tickets.select("ticket_id"), on="ticket_id", how="anti").height:
        known = id_.is_in(tickets["ticket_id"].implode())
        _refuse_rows("holds", holds, id_.is_null() | ~known, "belong to no ticket of the file")
    _refuse_rows("holds", holds, pl.col("start").is_null(), "have no start")
    _refuse_rows("holds", holds, pl.col("end") < pl.col("start"), "end before they start")
    return tickets, holds


def _conform(
    label: str,
    frame: pl.DataFrame,
    schema: dict[str, pl.DataType],
    optional: dict[str, pl.DataType],
) -> pl.DataFrame:
    """``frame`` cast to ``schema`` (plus any ``optional`` columns it has), or refused.

    Lenient only where nothing can be lost: any integer width for counts, any time unit for
    UTC instants, and an all-null column of no type.
    """
    if not isinstance(frame, pl.DataFrame):
        raise ImportRefused(f"{label}: expected a polars DataFrame, got {type(frame).__name__}")
    missing = [name for name in schema if name not in frame.columns]
    if missing:
        raise ImportRefused(f"{label} frame: missing column(s) {', '.join(missing)}")
    allowed = {**schema, **optional}
    unknown = [name for name in frame.columns if name not in allowed]
    if unknown:
        raise ImportRefused(
            f"{label} frame: unexpected column(s) {', '.join(unknown)}; "
            f"the columns are {', '.join(allowed)}"
        )
    casts = []
    for name in frame.columns:
        actual, expected = frame.schema[name], allowed[name]
        if not _compatible(actual, expected):
            raise ImportRefused(
                f"{label} frame: column {name} is {actual}, expected {_describe(expected)}"
            )
        casts.append(pl.col(name).cast(expected))
    return frame.select(casts)


def _compatible(actual: pl.DataType, expected: pl.DataType) -> bool:
    if actual == pl.Null or actual == expected:
        return True
    if isinstance(expected, pl.Datetime):
        return isinstance(actual, pl.Datetime) and actual.time_zone == "UTC"
    return expected.is_integer() and actual.is_integer()


def _describe(dtype: pl.DataType) -> str:
    return "a UTC Datetime" if dtype == UTC_INSTANT else str(dtype)


def _refuse_rows(label: str, frame: pl.DataFrame, condition: pl.Expr, what: str) -> None:
    bad = frame.with_row_index("row", offset=1).filter(condition)
    if bad.height:
        first = bad.row(0, named=True)
        raise ImportRefused(
            f"{label} frame: {bad.height:,} row(s) {what} "
            f"(first: row {first['row']}, ticket_id {first['ticket_id']!r})"
        )


# Reading back ------------------------------------------------------------------------------


def ticket_frames(engagement: Engagement) -> tuple[pl.DataFrame, pl.DataFrame]:
    """An engagement's stored tickets and holds as the canonical frames, by ticket id.

    Text columns stored empty come back as null, as the readers produce them.
    """
    tickets = _read_frame(
        Ticket.objects.filter(engagement=engagement).order_by("ticket_id").values_list(*TICKETS),
        TICKETS,
    ).with_columns(
        [pl.when(pl.col(name) != "").then(pl.col(name)).alias(name) for name in _BLANK_AS_NULL]
    )
    holds = _read_frame(
        TicketHold.objects.filter(engagement=engagement)
        .order_by("ticket__ticket_id", "start", "pk")
        .values_list("ticket__ticket_id", "start", "end"),
        HOLDS,
    )
    return tickets, holds


def _read_frame(rows: Iterable[tuple[Any, ...]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Rows of a ``values_list`` queryset as a frame, fetched and converted in chunks."""
    iterator = rows.iterator(chunk_size=READ_CHUNK) if hasattr(rows, "iterator") else iter(rows)
    parts = [
        pl.DataFrame(part, schema=schema, orient="row") for part in _chunks(iterator, READ_CHUNK)
    ]
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat(parts, rechunk=True)


def _chunks(iterator: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    while part := list(islice(iterator, size)):
        yield part
