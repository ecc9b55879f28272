"""CSV and XLSX exports of measurements, aggregates and credit lines, streamed.

- CSV: a ``StreamingHttpResponse`` over ``iterator(chunk_size=2000)``: memory stays flat
  however many clocks a run has.
- XLSX: an openpyxl write-only workbook (rows go to disk as they come) in a temporary file,
  then a ``FileResponse`` that streams the file and deletes it when closed.

Both read the same columns (:data:`COLUMNS`): instants in UTC ISO 8601, months as their first
day, shares and money as exact decimal text (never a binary float), durations in seconds.
Text that a spreadsheet would run as a formula (a leading ``= + - @``) is quoted.
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from openpyxl import Workbook

from tandem.core.models import Engagement
from tandem.service.models import ServiceCredit, SlaAggregate, SlaMeasurement, SlaRun

CHUNK = 2000
FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Per model: (header, value path) in file order. Paths go to ``values_list``.
COLUMNS: dict[type, list[tuple[str, str]]] = {
    SlaMeasurement: [
        ("run", "run_id"),
        ("ticket_number", "ticket_number"),
        ("ticket_opened_at", "ticket__opened_at"),
        ("metric", "metric"),
        ("priority", "priority"),
        ("assignment_group", "assignment_group"),
        ("side", "side"),
        ("month", "month"),
        ("policy_version", "policy_version"),
        ("elapsed_seconds", "elapsed_seconds"),
        ("target_seconds", "target_seconds"),
        ("met", "met"),
    ],
    SlaAggregate: [
        ("run", "run_id"),
        ("level", "level"),
        ("month", "month"),
        ("metric", "metric"),
        ("priority", "priority"),
        ("side", "side"),
        ("assignment_group", "assignment_group"),
        ("count", "count"),
        ("met", "met"),
        ("goal", "goal"),
        ("median_seconds", "median_seconds"),
        ("p90_seconds", "p90_seconds"),
    ],
    ServiceCredit: [
        ("run", "run_id"),
        ("month", "month"),
        ("metric", "metric"),
        ("priority", "priority"),
        ("policy_version", "policy_version"),
        ("count", "count"),
        ("met", "met"),
        ("goal", "goal"),
        ("missed", "missed"),
        ("allocation_percent", "allocation_percent"),
        ("currency", "currency"),
        ("credit", "credit"),
        ("capped", "capped"),
        ("earn_back_until", "earn_back_until"),
        ("earned_back", "earned_back"),
        ("due", "due"),
    ],
}

#: File order: the models' own, on columns (``run`` alone would join the run for its ordering).
ORDER = {
    SlaMeasurement: ("run_id", "ticket_number", "metric"),
    SlaAggregate: ("run_id", "level", "month", "metric", "priority", "side", "assignment_group"),
    ServiceCredit: ("run_id", "month", "priority", "metric"),
}

#: Each file's name after the engagement and run: "riverside-run-12-sla-measurements.csv".
NAMES = {
    SlaMeasurement: "sla-measurements",
    SlaAggregate: "sla-aggregates",
    ServiceCredit: "service-credits",
}


def safe_cell(value: str) -> str:
    """Defuse spreadsheet formulas (CSV injection): a leading = + - @ tab or CR is quoted."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def cell_text(value: Any) -> str:
    """One value as exact text: UTC ISO 8601 instants, ISO dates, ``true``/``false``,
    decimals as written (``1500.00``, ``0.950000``), text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | int):
        return str(value)
    return safe_cell(str(value))


def header(model: type) -> list[str]:
    return [name for name, _path in COLUMNS[model]]


def rows(queryset: QuerySet[Any], *, numbers: bool = False) -> Iterator[list[Any]]:
    """The export's rows as text, read in chunks (no model instances). With ``numbers``
    (XLSX), whole numbers (counts, seconds, ids) stay numbers so a spreadsheet can sum them;
    decimals (goals, money) stay exact text either way."""
    paths = [path for _name, path in COLUMNS[queryset.model]]
    for values in queryset.values_list(*paths).iterator(chunk_size=CHUNK):
        yield [value if numbers and type(value) is int else cell_text(value) for value in values]


def file_name(engagement: Engagement, run: SlaRun | None, model: type, extension: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", engagement.name.lower()).strip("-") or "engagement"
    run_part = f"-run-{run.pk}" if run is not None else ""
    return f"{slug}{run_part}-{NAMES[model]}.{extension}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(queryset: QuerySet[Any], name: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    lines: Iterable[str] = (
        writer.writerow(row) for row in _chain([header(queryset.model)], rows(queryset))
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def xlsx_response(queryset: QuerySet[Any], name: str, *, sheet: str) -> FileResponse:
    """A write-only workbook on a temporary file (deleted when the response closes)."""
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(title=sheet[:31])
    worksheet.append(header(queryset.model))
    for row in rows(queryset, numbers=True):
        worksheet.append(row)
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    book.save(handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX_TYPE)


def export_response(
    queryset: QuerySet[Any], *, fmt: str, engagement: Engagement, run: SlaRun | None
) -> HttpResponse | StreamingHttpResponse | FileResponse:
    """``?export=csv`` or ``?export=xlsx`` of a list: the rows the list's filters chose."""
    model = queryset.model
    name = file_name(engagement, run, model, fmt)
    queryset = queryset.select_related(None).order_by(*ORDER[model])
    if fmt == "xlsx":
        return xlsx_response(queryset, name, sheet=NAMES[model])
    return csv_response(queryset, name)


def _chain(*parts: Iterable[list[str]]) -> Iterator[list[str]]:
    for part in parts:
        yield from part
