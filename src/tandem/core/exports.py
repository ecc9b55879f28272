"""The one CSV/XLSX writer every export goes through: typed columns, formulas neutralized.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab
or carriage return) as a formula: a name typed as ``=HYPERLINK("http://x","y")`` would become a
live link in whoever opens the export (CSV injection, OWASP). The rule here:

- Every column has a :class:`Kind`. A **text** cell that starts with one of ``= + - @ \\t \\r``
  is prefixed with a single quote (OWASP's rule), whatever else it holds: a text cell reading
  ``-5`` is still text and comes out as ``'-5``. The writer never guesses that a text looks
  like a number.
- A **numeric** column (integer, decimal) writes a genuine number as a number: ``-5`` stays
  ``-5`` in CSV and is a number cell in XLSX. Only Python numbers count (``int``, ``Decimal``,
  a finite ``float``; never a ``bool``); anything else in a numeric column - a string, NaN,
  infinity - is written as neutralized text, so no value can leave a typed column raw.
- **Percentages** (:attr:`Kind.PERCENT`) are fractions (``0.953``), or percentage points
  when the column says so (``Column(points=True)``: ``30.0000`` is 30 %): exact text in CSV,
  as stored; in XLSX the fraction as a number with a percent format (``95.3%`` shown, ``0.953``
  summed). **Money** (:attr:`Kind.MONEY`) is exact text in CSV (``1500.00``) and a number in
  XLSX with its currency's format (``"$"#,##0.00`` for USD, ``#,##0.00 "CHF"`` for a code
  without a symbol); the currency is the column's (``Column(currency="USD")``) or, per row,
  the value of another column (``Column(currency_column="currency")``).
- **Dates** are ISO 8601 (``2025-03-01``); **instants** are in UTC in CSV (``...+00:00``);
  in XLSX they are date-time cells in the export's time zone (the engagement's), without a
  zone since Excel has none, and the column's header says which: ``Opened (America/Chicago)``.
  **Booleans** are ``true``/``false`` in CSV and boolean cells in XLSX; decimals are exact
  text in CSV (``0.950000``) and numbers in XLSX, shown with as many places as they have (a
  number of more than 15 digits, which Excel would round, is exact text there instead).
- :attr:`Kind.AUTO` writes each value by its Python type (a computed column of a table): a
  number as a number, a date as a date, and every string as neutralized text.

The writers stream: CSV as a ``StreamingHttpResponse`` (or into a file, for background
exports), XLSX through an openpyxl write-only workbook on a temporary file that the
``FileResponse`` deletes when it closes. :func:`table_export` turns a django-tables2 table
into columns and rows, typing each column from the model field it shows. A background export
(``tandem.core.exports_background``) follows the writing through :func:`reporting`.
"""

from __future__ import annotations

import csv
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import django_tables2 as tables
from django.db import models
from django.http import FileResponse, StreamingHttpResponse
from django.utils.encoding import force_str
from django.utils.http import content_disposition_header
from django_tables2.rows import BoundRow
from django_tables2.utils import signature
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# The rule itself lives where Django-free code (``tandem sla measure``) can import it too.
from tandem.core.formulas import FORMULA_STARTS, neutralize  # noqa: F401 (re-exported)

FORMATS = ("csv", "xlsx")
#: Rows read per database round trip.
CHUNK = 2000
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Excel refuses longer cells (the workbook would not open).
XLSX_MAX_TEXT = 32_767
DATE_FORMAT = "yyyy-mm-dd"
#: An instant in the export's zone; the column's header names the zone.
INSTANT_FORMAT = "yyyy-mm-dd hh:mm:ss"
#: Money with a currency this table does not know: the code after the amount.
MONEY_FORMAT = '#,##0.00 "{code}"'
#: Currencies shown with their symbol (the others with their ISO code).
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENT = "percent"
    MONEY = "money"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    AUTO = "auto"


#: The kinds whose cells are numbers.
NUMERIC = (Kind.INTEGER, Kind.DECIMAL, Kind.PERCENT, Kind.MONEY)


@dataclass(frozen=True)
class Column:
    """One column of an export: its header and the kind of value it holds.

    A percent column holds fractions (0.953), or percentage points with ``points`` (30 for
    30 %). A money column's currency is ``currency``, or per row the value of the column whose
    header is ``currency_column``."""

    header: str
    kind: Kind = Kind.TEXT
    points: bool = False
    currency: str = ""
    currency_column: str = ""


# --- one cell -------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal) and value.is_finite():
        return format(value, "f")
    return force_str(value)


def _utc(value: datetime) -> datetime:
    """An instant in UTC (a naive value is taken to be UTC already, as Django stores it)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _number(value: Any) -> int | Decimal | None:
    """``value`` as an exact number, or None when it is not a genuine finite number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    return None


def typed(kind: Kind, value: Any) -> tuple[Kind, Any]:
    """The kind a cell is written as, and its value: ``(TEXT, neutralized str)``,
    ``(INTEGER, int)``, ``(DECIMAL, Decimal)``, ``(PERCENT or MONEY, int or Decimal)``,
    ``(DATE, date)``, ``(DATETIME, UTC datetime)`` or ``(BOOLEAN, bool)``. None and "" are an
    empty text cell in every column."""
    if value is None or value == "":
        return Kind.TEXT, ""
    if kind is Kind.AUTO:
        kind = _kind_of(value)
    if kind in (Kind.PERCENT, Kind.MONEY):
        number = _number(value)
        if number is not None:
            return kind, number
    elif kind in (Kind.INTEGER, Kind.DECIMAL):
        number = _number(value)
        if isinstance(number, int):
            return Kind.INTEGER, number
        if number is not None:
            if kind is Kind.INTEGER and number == number.to_integral_value():
                return Kind.INTEGER, int(number)
            return Kind.DECIMAL, number
    elif kind is Kind.DATETIME and isinstance(value, datetime):
        return Kind.DATETIME, _utc(value)
    elif kind is Kind.DATE and isinstance(value, date):
        return (Kind.DATETIME, _utc(value)) if isinstance(value, datetime) else (Kind.DATE, value)
    elif kind is Kind.BOOLEAN and isinstance(value, bool):
        return Kind.BOOLEAN, value
    return Kind.TEXT, neutralize(_as_text(value))


def _kind_of(value: Any) -> Kind:
    if isinstance(value, bool):
        return Kind.BOOLEAN
    if isinstance(value, int):
        return Kind.INTEGER
    if isinstance(value, Decimal | float):
        return Kind.DECIMAL
    if isinstance(value, datetime):
        return Kind.DATETIME
    if isinstance(value, date):
        return Kind.DATE
    return Kind.TEXT


def csv_cell(kind: Kind, value: Any) -> str:
    """One cell as CSV text."""
    written, value = typed(kind, value)
    if written is Kind.TEXT:
        return value  # type: ignore[no-any-return]
    return _as_text(value)


def csv_row(columns: Sequence[Column], values: Sequence[Any]) -> list[str]:
    return [csv_cell(column.kind, value) for column, value in zip(columns, values, strict=True)]


# --- following a long export ---------------------------------------------------------------

#: A writer reports the rows written so far every this many rows.
REPORT_EVERY = 2000
_reporter: ContextVar[Callable[[int], None] | None] = ContextVar("export_reporter", default=None)


@contextmanager
def reporting(report: Callable[[int], None]) -> Iterator[None]:
    """While in this block, the writers call ``report(rows written)`` every
    :data:`REPORT_EVERY` rows (a background export moves its progress bar with it)."""
    token = _reporter.set(report)
    try:
        yield
    finally:
        _reporter.reset(token)


# --- CSV ------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, one line at a time: the headers, then each row."""
    writer = csv.writer(_Echo())
    yield writer.writerow([neutralize(column.header) for column in columns])
    report = _reporter.get()
    for written, values in enumerate(rows, start=1):
        yield writer.writerow(csv_row(columns, values))
        if report is not None and written % REPORT_EVERY == 0:
            report(written)


def write_csv(stream: IO[str], columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> int:
    """Write a CSV to an open text stream (``newline=""``); return the number of rows."""
    lines = csv_lines(columns, rows)
    stream.write(next(lines))
    written = 0
    for line in lines:
        stream.write(line)
        written += 1
    return written


def csv_response(
    columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, filename: str
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(columns, rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# --- XLSX -----------------------------------------------------------------------------------


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _decimal_format(value: Decimal) -> str:
    places = _places(value)
    return "0." + "0" * places if places else "0"


def _percent_format(fraction: Decimal) -> str:
    """At least one place (95.0%), more when the value has them (95.25%), at most four."""
    places = min(4, max(1, _places(fraction.normalize()) - 2))
    return "0." + "0" * places + "%"


def money_format(currency: str) -> str:
    """The number format of an amount in ``currency``: ``"$"#,##0.00`` for USD, the ISO code
    after the amount for a currency without a symbol here, plain ``#,##0.00`` for none."""
    code = currency.strip().upper()
    if code in CURRENCY_SYMBOLS:
        return f'"{CURRENCY_SYMBOLS[code]}"#,##0.00'
    if re.fullmatch(r"[A-Z]{3}", code):
        return MONEY_FORMAT.format(code=code)
    return "#,##0.00"


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name``; UTC for an empty or unknown name."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def xlsx_header(column: Column, time_zone: str = "UTC") -> str:
    """The header of ``column`` in a workbook: an instant's says the zone its cells are in."""
    if column.kind is Kind.DATETIME:
        return f"{column.header} ({zone(time_zone).key})"
    return column.header


def xlsx_cell(
    sheet: Any,
    kind: Kind,
    value: Any,
    *,
    time_zone: str | ZoneInfo = "UTC",
    points: bool = False,
    currency: str = "",
) -> Any:
    """One cell for an openpyxl write-only sheet: a plain value or a formatted cell.

    Instants are converted to ``time_zone`` and written without it (Excel has none); a
    computed (:attr:`Kind.AUTO`) column, whose header cannot say the zone, shows it in the
    cell's format. ``points``: a percent value is in percentage points. ``currency``: the
    ISO code of a money value."""
    auto = kind is Kind.AUTO
    written, value = typed(kind, value)
    if written is Kind.TEXT:
        if not value:
            return None
        # Control characters other than tab, CR and LF are not allowed in the file format.
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:XLSX_MAX_TEXT]
    if written in NUMERIC and len(Decimal(value).as_tuple().digits) > 15:
        # Excel keeps 15 significant digits: a longer id or amount stays exact as text.
        return neutralize(_as_text(value))
    if written in (Kind.INTEGER, Kind.BOOLEAN):
        return value
    cell = WriteOnlyCell(sheet)
    if written is Kind.DECIMAL:
        cell.value = value
        cell.number_format = _decimal_format(value)
    elif written is Kind.PERCENT:
        fraction = Decimal(value) / 100 if points else Decimal(value)
        cell.value = fraction
        cell.number_format = _percent_format(fraction)
    elif written is Kind.MONEY:
        cell.value = value
        cell.number_format = money_format(currency)
    elif written is Kind.DATE:
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:  # an instant: in the export's zone, without it (Excel has no time zones)
        local = zone(time_zone) if isinstance(time_zone, str) else time_zone
        cell.value = value.astimezone(local).replace(tzinfo=None)
        cell.number_format = INSTANT_FORMAT + (f' "{local.key}"' if auto else "")
    return cell


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


def sheet_title(text: str) -> str:
    """A valid worksheet title: no ``[ ] : * ? / \\ '``, at most 31 characters."""
    title = _SHEET_FORBIDDEN.sub(" ", ILLEGAL_CHARACTERS_RE.sub(" ", text)).strip()
    return title[:31] or "Export"


def write_xlsx(
    stream: IO[bytes],
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str,
    time_zone: str = "UTC",
) -> int:
    """Write a one-sheet workbook (write-only: rows go to disk as they come); return the rows.
    Instants are shown in ``time_zone`` (the engagement's), which their headers name."""
    book = Workbook(write_only=True)
    written = append_sheet(book, columns, rows, sheet=sheet, time_zone=time_zone)
    book.save(stream)
    return written


def write_workbook(
    stream: IO[bytes],
    sheets: Sequence[tuple[str, Sequence[Column], Iterable[Sequence[Any]]]],
    *,
    time_zone: str = "UTC",
) -> None:
    """Write a workbook of several typed sheets ``(title, columns, rows)``, in order: a report
    (``tandem.core.reports_xlsx``). Titles are made valid and unique (Excel ignores case)."""
    if not sheets:
        raise ValueError("a workbook needs at least one sheet")
    book = Workbook(write_only=True)
    used: set[str] = set()
    for title, columns, rows in sheets:
        name = base = sheet_title(title)
        number = 2
        while name.lower() in used:
            suffix = f" ({number})"
            name = base[: 31 - len(suffix)] + suffix
            number += 1
        used.add(name.lower())
        append_sheet(book, columns, rows, sheet=name, time_zone=time_zone)
    book.save(stream)


def append_sheet(
    book: Workbook,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    sheet: str,
    time_zone: str = "UTC",
) -> int:
    """Add one typed sheet to a write-only workbook (:func:`write_xlsx`'s rules); return the
    rows. A report of several sheets calls it once per sheet (``tandem.core.reports_xlsx``)."""
    worksheet = book.create_sheet(title=sheet_title(sheet))
    local = zone(time_zone)
    worksheet.append(
        [xlsx_cell(worksheet, Kind.TEXT, xlsx_header(column, local.key)) for column in columns]
    )
    headers = [column.header for column in columns]
    # Per column: where its currency comes from (a fixed code, or another column of the row).
    currency_at = [
        headers.index(column.currency_column) if column.currency_column in headers else None
        for column in columns
    ]
    report = _reporter.get()
    written = 0
    for values in rows:
        cells = []
        for column, value, at in zip(columns, values, currency_at, strict=True):
            currency = column.currency
            if at is not None and isinstance(values[at], str):
                currency = values[at]
            cells.append(
                xlsx_cell(
                    worksheet,
                    column.kind,
                    value,
                    time_zone=local,
                    points=column.points,
                    currency=currency,
                )
            )
        worksheet.append(cells)
        written += 1
        if report is not None and written % REPORT_EVERY == 0:
            report(written)
    return written


def xlsx_response(
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    filename: str,
    sheet: str,
    time_zone: str = "UTC",
) -> FileResponse:
    """The workbook on a temporary file, streamed and deleted when the response closes."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    try:
        write_xlsx(handle, columns, rows, sheet=sheet, time_zone=time_zone)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


# --- one entry point for views ----------------------------------------------------------------


def file_slug(text: str, default: str = "export") -> str:
    """Lower-case ASCII words joined by hyphens: "Alpha Health" -> "alpha-health"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or default


def export_response(
    fmt: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    name: str,
    sheet: str = "",
    time_zone: str = "UTC",
) -> StreamingHttpResponse:
    """``?export=csv`` or ``?export=xlsx``: the file ``name.csv`` or ``name.xlsx``; instants
    in a workbook are shown in ``time_zone`` (in a CSV they are UTC, with the offset)."""
    if fmt == "xlsx":
        return xlsx_response(
            columns, rows, filename=f"{name}.xlsx", sheet=sheet or name, time_zone=time_zone
        )
    if fmt == "csv":
        return csv_response(columns, rows, filename=f"{name}.csv")
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


# --- django-tables2 tables --------------------------------------------------------------------

_FIELD_KINDS: tuple[tuple[type[models.Field[Any, Any]], Kind], ...] = (
    (models.BooleanField, Kind.BOOLEAN),
    (models.DateTimeField, Kind.DATETIME),  # before DateField: it is one
    (models.DateField, Kind.DATE),
    (models.DecimalField, Kind.DECIMAL),
    (models.FloatField, Kind.DECIMAL),
    (models.IntegerField, Kind.INTEGER),  # small, big, positive and auto ones too
)


def field_kind(field: Any) -> Kind:
    """The kind of a model field's values (text for choices, relations and anything else)."""
    if field is None or getattr(field, "choices", None) or field.is_relation:
        return Kind.TEXT
    for field_class, kind in _FIELD_KINDS:
        if isinstance(field, field_class):
            return kind
    return Kind.TEXT


def table_export(table: Any) -> tuple[list[Column], Iterator[list[Any]]]:
    """The columns and rows of a django-tables2 table, as ``table.as_values()`` would give
    them, typed: a column showing a number, date, instant or boolean field exports the
    field's own value (not the page's "1,234 people" or "Apr 1, 2025"); other columns export
    the table's value (``value_<name>`` or the column's ``value``), as text, or by type for
    computed columns with no field behind them. A table may declare a column's kind where
    the field does not say it: ``export_kinds = {"goal": Kind.PERCENT}`` (the column then
    exports its record's value)."""
    model = getattr(getattr(table, "_meta", None), "model", None)
    bound = [column for column in table.columns.iterall() if not column.column.exclude_from_export]
    declared: dict[str, Kind] = getattr(table, "export_kinds", {})
    kinds: list[Kind] = []
    for column in bound:
        field = column.accessor.get_field(model) if model is not None else None
        if column.name in declared:
            kinds.append(Kind(declared[column.name]))
        elif field is None:
            kinds.append(Kind.AUTO)
        else:
            kinds.append(field_kind(field))
    columns = [
        Column(force_str(column.header), kind) for column, kind in zip(bound, kinds, strict=True)
    ]

    shown = {
        column.name: _cell_value(table, column)
        for column, kind in zip(bound, kinds, strict=True)
        if kind in (Kind.TEXT, Kind.AUTO)
    }

    def rows() -> Iterator[list[Any]]:
        for record in _records(table):
            row = BoundRow(record, table=table)
            values = []
            for column in bound:
                value_of = shown.get(column.name)
                if value_of is not None:
                    values.append(value_of(row))
                else:
                    values.append(column.accessor.resolve(row.record, quiet=True))
            yield values

    return columns, rows()


def _cell_value(table: Any, bound_column: Any) -> Callable[[BoundRow], Any]:
    """``row.get_cell_value(name)`` for one column, with the value function's signature read
    once: django-tables2 inspects it for every cell, which was half the time of a large
    export. The same calls otherwise: ``value_<name>``, ``render_<name>`` or the column's
    ``value`` (whose default calls the column's ``render``), given the arguments it names."""
    function: Any = bound_column.value
    column: Any = bound_column.column
    if getattr(function, "__func__", None) is tables.Column.value and function.__self__ is column:
        function = column.render  # what the default ``Column.value`` calls
    names, catch_all = signature(function)

    def value_of(row: BoundRow) -> Any:
        def call(_bound: Any, value: Any = None) -> Any:
            arguments = {
                "value": value,
                "record": row.record,
                "column": column,
                "bound_column": bound_column,
                "bound_row": row,
                "table": table,
            }
            if catch_all:
                return function(**arguments)
            if any(name not in arguments for name in names):
                return None
            return function(**{name: arguments[name] for name in names})

        return row._get_and_render_with(bound_column, render_func=call, default=None)

    return value_of


def _records(table: Any) -> Iterator[Any]:
    """The table's records in its order; a queryset is read in chunks, never held whole
    (``table.rows`` would cache every row of a million-ticket list)."""
    data = table.data.data
    if isinstance(data, models.QuerySet):
        return data.iterator(chunk_size=CHUNK)
    return iter(data)
