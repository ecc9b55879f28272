"""What is SLA-specific in the exports of measurements, aggregates and credit lines: their
columns, order and file names. Writing them (streamed CSV, write-only XLSX, typed cells,
formulas neutralized) is ``tandem.core.exports``, as for every other export.

Columns are read with ``values_list`` in chunks (no model instances): memory stays flat however
many clocks a run has. Instants are UTC, months their first day, shares and money exact
decimals (text in CSV, numbers in XLSX), durations whole seconds, ``met`` a boolean.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from tandem.core import exports
from tandem.core.exports import Column, Kind
from tandem.core.models import Engagement
from tandem.service.models import ServiceCredit, SlaAggregate, SlaMeasurement, SlaRun

CHUNK = 2000
FORMATS = exports.FORMATS

# Short names for the table below.
TEXT, INT, DEC, BOOL = Kind.TEXT, Kind.INTEGER, Kind.DECIMAL, Kind.BOOLEAN
DAY, AT = Kind.DATE, Kind.DATETIME

#: Per model: (header, value path, kind) in file order. Paths go to ``values_list``.
COLUMNS: dict[type, list[tuple[str, str, Kind]]] = {
    SlaMeasurement: [
        ("run", "run_id", INT),
        ("ticket_number", "ticket_number", TEXT),
        ("ticket_opened_at", "ticket__opened_at", AT),
        ("metric", "metric", TEXT),
        ("priority", "priority", TEXT),
        ("assignment_group", "assignment_group", TEXT),
        ("side", "side", TEXT),
        ("month", "month", DAY),
        ("policy_version", "policy_version", INT),
        ("elapsed_seconds", "elapsed_seconds", INT),
        ("target_seconds", "target_seconds", INT),
        ("met", "met", BOOL),
    ],
    SlaAggregate: [
        ("run", "run_id", INT),
        ("level", "level", TEXT),
        ("month", "month", DAY),
        ("metric", "metric", TEXT),
        ("priority", "priority", TEXT),
        ("side", "side", TEXT),
        ("assignment_group", "assignment_group", TEXT),
        ("count", "count", INT),
        ("met", "met", INT),
        ("goal", "goal", DEC),
        ("median_seconds", "median_seconds", INT),
        ("p90_seconds", "p90_seconds", INT),
    ],
    ServiceCredit: [
        ("run", "run_id", INT),
        ("month", "month", DAY),
        ("metric", "metric", TEXT),
        ("priority", "priority", TEXT),
        ("policy_version", "policy_version", INT),
        ("count", "count", INT),
        ("met", "met", INT),
        ("goal", "goal", DEC),
        ("missed", "missed", BOOL),
        ("allocation_percent", "allocation_percent", DEC),
        ("currency", "currency", TEXT),
        ("credit", "credit", DEC),
        ("capped", "capped", DEC),
        ("earn_back_until", "earn_back_until", DAY),
        ("earned_back", "earned_back", BOOL),
        ("due", "due", DEC),
    ],
}

#: File order: the models' own, on columns (``run`` alone would join the run for its ordering).
ORDER: dict[type, tuple[str, ...]] = {
    SlaMeasurement: ("run_id", "ticket_number", "metric"),
    SlaAggregate: ("run_id", "level", "month", "metric", "priority", "side", "assignment_group"),
    ServiceCredit: ("run_id", "month", "priority", "metric"),
}

#: Each file's name after the engagement and run: "riverside-run-12-sla-measurements.csv".
NAMES: dict[type, str] = {
    SlaMeasurement: "sla-measurements",
    SlaAggregate: "sla-aggregates",
    ServiceCredit: "service-credits",
}


def columns(model: type) -> list[Column]:
    return [Column(header, kind) for header, _path, kind in COLUMNS[model]]


def rows(queryset: QuerySet[Any]) -> Any:
    """The export's values, read in chunks of :data:`CHUNK` (no model instances)."""
    paths = [path for _name, path, _kind in COLUMNS[queryset.model]]
    return queryset.values_list(*paths).iterator(chunk_size=CHUNK)


def file_stem(engagement: Engagement, run: SlaRun | None, model: type) -> str:
    run_part = f"-run-{run.pk}" if run is not None else ""
    return f"{exports.file_slug(engagement.name, 'engagement')}{run_part}-{NAMES[model]}"


def export_response(
    queryset: QuerySet[Any], *, fmt: str, engagement: Engagement, run: SlaRun | None
) -> StreamingHttpResponse:
    """``?export=csv`` or ``?export=xlsx`` of a list: the rows the list's filters chose."""
    model = queryset.model
    queryset = queryset.select_related(None).order_by(*ORDER[model])
    return exports.export_response(
        fmt,
        columns(model),
        rows(queryset),
        name=file_stem(engagement, run, model),
        sheet=NAMES[model],
    )
