"""What is SLA-specific in the exports of measurements, aggregates and credit lines: their
columns, order and file names. Writing them (streamed CSV, write-only XLSX, typed cells,
formulas neutralized) is ``tandem.core.exports``, as for every other export.

Columns are read with ``values_list`` in chunks (no model instances): memory stays flat however
many clocks a run has. Instants are UTC in CSV and the engagement's local time in XLSX (the
header names the zone), months their first day, durations whole seconds, ``met`` a boolean.
Shares (goals, attainment) and money are exact decimals in CSV; in XLSX they are numbers,
shares shown as percentages (0.95 -> 95.0%) and money in the credit line's currency
("$"#,##0.00 for USD). Attainment (met / count, six places) is computed here, not stored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
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
DAY, AT, SHARE, MONEY = Kind.DATE, Kind.DATETIME, Kind.PERCENT, Kind.MONEY
#: A column computed from others (no value path): its value is filled in by :func:`rows`.
COMPUTED = ""

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
        ("attainment", COMPUTED, SHARE),
        ("goal", "goal", SHARE),
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
        ("attainment", COMPUTED, SHARE),
        ("goal", "goal", SHARE),
        ("missed", "missed", BOOL),
        ("allocation_percent", "allocation_percent", SHARE),
        ("currency", "currency", TEXT),
        ("credit", "credit", MONEY),
        ("capped", "capped", MONEY),
        ("earn_back_until", "earn_back_until", DAY),
        ("earned_back", "earned_back", BOOL),
        ("due", "due", MONEY),
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


#: Per model and header, how a column is written beyond its kind: ``allocation_percent``
#: holds percentage points (30.0000 is 30 %), money is in the line's ``currency``.
OPTIONS: dict[type, dict[str, dict[str, Any]]] = {
    ServiceCredit: {
        "allocation_percent": {"points": True},
        "credit": {"currency_column": "currency"},
        "capped": {"currency_column": "currency"},
        "due": {"currency_column": "currency"},
    },
}

#: Six places, as goals are stored.
ATTAINMENT_PLACES = Decimal("0.000001")


def columns(model: type) -> list[Column]:
    options = OPTIONS.get(model, {})
    return [
        Column(header, kind, **options.get(header, {})) for header, _path, kind in COLUMNS[model]
    ]


def attainment(count: int | None, met: int | None) -> Decimal | None:
    """``met / count`` as an exact decimal of six places; None without stopped clocks."""
    if not count or met is None:
        return None
    return (Decimal(met) / Decimal(count)).quantize(ATTAINMENT_PLACES)


def rows(queryset: QuerySet[Any]) -> Any:
    """The export's values, read in chunks of :data:`CHUNK` (no model instances), with the
    computed columns filled in."""
    spec = COLUMNS[queryset.model]
    paths = [path for _name, path, _kind in spec if path != COMPUTED]
    values = queryset.values_list(*paths).iterator(chunk_size=CHUNK)
    if len(paths) == len(spec):
        return values
    return _with_computed(spec, values)


def _with_computed(
    spec: Sequence[tuple[str, str, Kind]], values: Iterator[tuple[Any, ...]]
) -> Iterator[list[Any]]:
    read = [name for name, path, _kind in spec if path != COMPUTED]
    count_at, met_at = read.index("count"), read.index("met")
    # Per column: where its value is in the row read, or None for attainment (the only
    # computed column so far).
    at = [None if path == COMPUTED else read.index(name) for name, path, _kind in spec]
    for row in values:
        share = attainment(row[count_at], row[met_at])
        yield [share if index is None else row[index] for index in at]


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
        time_zone=engagement.time_zone,
    )
