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
- **Dates** are ISO 8601 (``2025-03-01``); **instants** are in UTC (CSV ``...+00:00``; XLSX
  a date-time cell in UTC, formatted with "UTC" after it: Excel has no time zones);
  **booleans** are ``true``/``false`` in CSV and boolean cells in XLSX; decimals are exact
  text in CSV (``0.950000``) and numbers in XLSX, shown with as many places as they have (a
  number of more than 15 digits, which Excel would round, is exact text there instead).
- :attr:`Kind.AUTO` writes each value by its Python type (a computed column of a table): a
  number as a number, a date as a date, and every string as neutralized text.

The writers stream: CSV as a ``StreamingHttpResponse`` (or into a file, for background
exports), XLSX through an openpyxl write-only workbook on a temporary file that the
``FileResponse`` deletes when it closes. :func:`table_export` turns a django-tables2 table
into columns and rows, typing each column from the model field it shows.
"""

from __future__ import annotations

import csv
import math
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import IO, Any

from django.db import models
from django.http import FileResponse, StreamingHttpResponse
from django.utils.encoding import force_str
from django.utils.http import content_disposition_header
from django_tables2.rows import BoundRow
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
INSTANT_FORMAT = 'yyyy-mm-dd hh:mm:ss "UTC"'


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    AUTO = "auto"


@dataclass(frozen=True)
class Column:
    """One column of an export: its header and the kind of value it holds."""

    header: str
    kind: Kind = Kind.TEXT


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
    ``(INTEGER, int)``, ``(DECIMAL, Decimal)``, ``(DATE, date)``, ``(DATETIME, UTC datetime)``
    or ``(BOOLEAN, bool)``. None and "" are an empty text cell in every column."""
    if value is None or value == "":
        return Kind.TEXT, ""
    if kind is Kind.AUTO:
        kind = _kind_of(value)
    if kind in (Kind.INTEGER, Kind.DECIMAL):
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


# --- CSV ------------------------------------------------------------------------------------


class _Echo:
    """A file-like object whose ``write`` returns the line (for streaming ``csv.writer``)."""

    def write(self, value: str) -> str:
        return value


def csv_lines(columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, one line at a time: the headers, then each row."""
    writer = csv.writer(_Echo())
    yield writer.writerow([neutralize(column.header) for column in columns])
    for values in rows:
        yield writer.writerow(csv_row(columns, values))


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


def _decimal_format(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return "0." + "0" * places if places else "0"


def xlsx_cell(sheet: Any, kind: Kind, value: Any) -> Any:
    """One cell for an openpyxl write-only sheet: a plain value or a formatted cell."""
    written, value = typed(kind, value)
    if written is Kind.TEXT:
        if not value:
            return None
        # Control characters other than tab, CR and LF are not allowed in the file format.
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)[:XLSX_MAX_TEXT]
    if written in (Kind.INTEGER, Kind.DECIMAL) and len(Decimal(value).as_tuple().digits) > 15:
        # Excel keeps 15 significant digits: a longer id or amount stays exact as text.
        return neutralize(_as_text(value))
    if written in (Kind.INTEGER, Kind.BOOLEAN):
        return value
    cell = WriteOnlyCell(sheet)
    if written is Kind.DECIMAL:
        cell.value = value
        cell.number_format = _decimal_format(value)
    elif written is Kind.DATE:
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:  # an instant: Excel has no time zone, so UTC without one, and said in the format
        cell.value = value.replace(tzinfo=None)
        cell.number_format = INSTANT_FORMAT
    return cell


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")


def sheet_title(text: str) -> str:
    """A valid worksheet title: no ``[ ] : * ? / \\ '``, at most 31 characters."""
    title = _SHEET_FORBIDDEN.sub(" ", ILLEGAL_CHARACTERS_RE.sub(" ", text)).strip()
    return title[:31] or "Export"


def write_xlsx(
    stream: IO[bytes], columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, sheet: str
) -> int:
    """Write a one-sheet workbook (write-only: rows go to disk as they come); return the rows."""
    book = Workbook(write_only=True)
    worksheet = book.create_sheet(title=sheet_title(sheet))
    worksheet.append([xlsx_cell(worksheet, Kind.TEXT, column.header) for column in columns])
    written = 0
    for values in rows:
        cells = [
            xlsx_cell(worksheet, column.kind, value)
            for column, value in zip(columns, values, strict=True)
        ]
        worksheet.append(cells)
        written += 1
    book.save(stream)
    return written


def xlsx_response(
    columns: Sequence[Column], rows: Iterable[Sequence[Any]], *, filename: str, sheet: str
) -> FileResponse:
    """The workbook on a temporary file, streamed and deleted when the response closes."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    try:
        write_xlsx(handle, columns, rows, sheet=sheet)
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
) -> StreamingHttpResponse:
    """``?export=csv`` or ``?export=xlsx``: the file ``name.csv`` or ``name.xlsx``."""
    if fmt == "xlsx":
        return xlsx_response(columns, rows, filename=f"{name}.xlsx", sheet=sheet or name)
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
    computed columns with no field behind them."""
    model = getattr(getattr(table, "_meta", None), "model", None)
    bound = [column for column in table.columns.iterall() if not column.column.exclude_from_export]
    kinds: list[Kind] = []
    for column in bound:
        field = column.accessor.get_field(model) if model is not None else None
        if field is None:
            kinds.append(Kind.AUTO)
        else:
            kinds.append(field_kind(field))
    columns = [
        Column(force_str(column.header), kind) for column, kind in zip(bound, kinds, strict=True)
    ]

    def rows() -> Iterator[list[Any]]:
        for record in _records(table):
            row = BoundRow(record, table=table)
            values = []
            for column, kind in zip(bound, kinds, strict=True):
                if kind in (Kind.TEXT, Kind.AUTO):
                    values.append(row.get_cell_value(column.name))
                else:
                    values.append(column.accessor.resolve(row.record, quiet=True))
            yield values

    return columns, rows()


def _records(table: Any) -> Iterator[Any]:
    """The table's records in its order; a queryset is read in chunks, never held whole
    (``table.rows`` would cache every row of a million-ticket list)."""
    data = table.data.data
    if isinstance(data, models.QuerySet):
        return data.iterator(chunk_size=CHUNK)
    return iter(data)
