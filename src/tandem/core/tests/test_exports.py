"""The one export writer: text that would run as a formula is quoted, numbers stay numbers,
dates and instants are typed, and nothing a user types can break a file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import openpyxl
import pytest

from tandem.core import exports
from tandem.core.exports import Column, Kind, csv_cell, neutralize
from tandem.core.models import Organization, User
from tandem.core.tables import OrganizationTable, PersonTable

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", FORMULAS)
def test_text_starting_like_a_formula_is_quoted(text: str) -> None:
    assert neutralize(text) == "'" + text
    assert csv_cell(Kind.TEXT, text) == "'" + text


@pytest.mark.parametrize("text", ["Alpha Health", "", "'=already quoted", " =1", "5", "a=b"])
def test_other_text_is_left_as_it_is(text: str) -> None:
    assert neutralize(text) == text


def test_a_text_that_looks_like_a_negative_number_is_still_text() -> None:
    # Decided: the column says what a cell is. A text column holding "-5" (a ticket number, a
    # name) is quoted; only a genuine number in a numeric column is written as a number.
    assert csv_cell(Kind.TEXT, "-5") == "'-5"
    assert csv_cell(Kind.TEXT, -5) == "'-5"  # a number in a text column is text too
    assert csv_cell(Kind.INTEGER, -5) == "-5"
    assert csv_cell(Kind.DECIMAL, Decimal("-2.50")) == "-2.50"
    assert csv_cell(Kind.AUTO, -7) == "-7"


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (Kind.INTEGER, "-2+3"),  # a string in a numeric column
        (Kind.INTEGER, True),  # a boolean is not a number
        (Kind.DECIMAL, Decimal("-Infinity")),
        (Kind.DECIMAL, float("-inf")),
        (Kind.DATE, "-1"),
        (Kind.DATETIME, "=NOW()"),
        (Kind.BOOLEAN, "+1"),
        (Kind.AUTO, "@A1"),
    ],
)
def test_nothing_leaves_a_typed_column_raw(kind: Kind, value: object) -> None:
    written = csv_cell(kind, value)
    assert not written.startswith(exports.FORMULA_STARTS), (kind, value, written)


def test_csv_cells_are_exact_and_in_utc() -> None:
    summer = timezone(timedelta(hours=-5))
    assert csv_cell(Kind.DATETIME, datetime(2025, 3, 3, 8, 0, tzinfo=summer)) == (
        "2025-03-03T13:00:00+00:00"
    )
    assert csv_cell(Kind.DATE, date(2025, 3, 1)) == "2025-03-01"
    assert csv_cell(Kind.DECIMAL, Decimal("0.950000")) == "0.950000"
    assert csv_cell(Kind.DECIMAL, Decimal("1E+2")) == "100"  # never scientific notation
    assert csv_cell(Kind.DECIMAL, 0.1) == "0.1"
    assert csv_cell(Kind.INTEGER, Decimal("12")) == "12"
    assert csv_cell(Kind.BOOLEAN, False) == "false"
    assert csv_cell(Kind.INTEGER, None) == ""


def test_csv_streams_with_headers_and_counts_rows() -> None:
    columns = [Column("name"), Column("=total", Kind.INTEGER)]
    response = exports.csv_response(columns, [["-2+3", -5], ["Desk", 3]], filename="a b.csv")
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="a b.csv"'
    body = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(body))) == [
        ["name", "'=total"],
        ["'-2+3", "-5"],
        ["Desk", "3"],
    ]
    stream = io.StringIO(newline="")
    assert exports.write_csv(stream, columns, [["x", 1]] * 3) == 3
    assert exports.write_csv(io.StringIO(), columns, []) == 0


def _workbook(columns: list[Column], rows: list[list[object]]) -> openpyxl.Workbook:
    stream = io.BytesIO()
    exports.write_xlsx(stream, columns, rows, sheet="Test: [a/b]?")
    stream.seek(0)
    return openpyxl.load_workbook(stream)


def test_xlsx_cells_are_typed_and_no_cell_is_a_formula() -> None:
    columns = [
        Column("text"),
        Column("count", Kind.INTEGER),
        Column("money", Kind.DECIMAL),
        Column("day", Kind.DATE),
        Column("at", Kind.DATETIME),
        Column("flag", Kind.BOOLEAN),
        Column("computed", Kind.AUTO),
    ]
    instant = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)
    rows: list[list[object]] = [
        [text, -5, Decimal("-1500.25"), date(2025, 3, 1), instant, True, -60]
        for text in [*FORMULAS, "-5", "Plain"]
    ]
    book = _workbook(columns, rows)
    sheet = book.active
    assert sheet.title == "Test   a b"
    headers = [c.header for c in columns]
    assert [c.value for c in sheet[1]] == [*headers[:4], "at (UTC)", *headers[5:]]
    for row in sheet.iter_rows(min_row=2):
        text, count, money, day, at, flag, computed = row
        assert text.data_type == "s"
        assert not str(text.value).startswith(exports.FORMULA_STARTS)
        assert (count.data_type, count.value) == ("n", -5)
        assert (money.data_type, money.value, money.number_format) == ("n", -1500.25, "0.00")
        assert day.is_date and day.value == datetime(2025, 3, 1)
        assert day.number_format == "yyyy-mm-dd"
        assert at.is_date and at.value == datetime(2025, 3, 3, 8, 30)  # UTC, no zone
        assert at.number_format == "yyyy-mm-dd hh:mm:ss"  # the header names the zone
        assert (flag.data_type, flag.value) == ("b", True)
        assert (computed.data_type, computed.value) == ("n", -60)
    texts = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert texts[:4] == ["'" + f for f in FORMULAS[:4]]
    assert texts[-2:] == ["'-5", "Plain"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_percentages_money_and_local_times() -> None:
    """Shares as percentages (a number, shown with %), money in its currency's format (the
    column's, or the row's), instants as wall-clock times of the export's zone."""
    columns = [
        Column("attainment", Kind.PERCENT),
        Column("allocation", Kind.PERCENT, points=True),
        Column("currency"),
        Column("due", Kind.MONEY, currency_column="currency"),
        Column("fee", Kind.MONEY, currency="EUR"),
        Column("opened", Kind.DATETIME),
        Column("computed", Kind.AUTO),
    ]
    summer = datetime(2025, 7, 1, 14, 0, tzinfo=UTC)
    rows: list[list[object]] = [
        [Decimal("0.953"), Decimal("30.0000"), "USD", Decimal("-250.00"), 10, summer, summer],
        [0.9525, 12.5, "CHF", Decimal("1500.00"), Decimal("1E+2"), None, None],
        ["=1", "n/a", "", "-2+3", None, "=NOW()", None],
    ]
    stream = io.BytesIO()
    exports.write_xlsx(stream, columns, rows, sheet="s", time_zone="America/Chicago")
    sheet = openpyxl.load_workbook(io.BytesIO(stream.getvalue())).active
    assert [c.value for c in sheet[1]][5] == "opened (America/Chicago)"
    first, second, hostile = (list(row) for row in sheet.iter_rows(min_row=2))
    assert (first[0].data_type, first[0].value, first[0].number_format) == ("n", 0.953, "0.0%")
    assert (first[1].value, first[1].number_format) == (0.3, "0.0%")  # 30 points: 30 %
    assert (second[0].value, second[0].number_format) == (0.9525, "0.00%")
    assert second[1].value == 0.125
    assert (first[3].value, first[3].number_format) == (-250, '"$"#,##0.00')
    assert (second[3].value, second[3].number_format) == (1500, '#,##0.00 "CHF"')
    assert (first[4].value, first[4].number_format) == (10, '"€"#,##0.00')
    assert first[5].value == datetime(2025, 7, 1, 9, 0)  # CDT, naive
    assert first[5].number_format == "yyyy-mm-dd hh:mm:ss"
    # A computed column's header cannot say the zone: its cells do.
    assert first[6].value == datetime(2025, 7, 1, 9, 0)
    assert first[6].number_format.endswith('"America/Chicago"')
    # Text in a typed column stays neutralized text, never a formula.
    assert [c.value for c in hostile if c.value is not None] == ["'=1", "n/a", "'-2+3", "'=NOW()"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_csv_keeps_percentages_and_money_exact() -> None:
    columns = [
        Column("goal", Kind.PERCENT),
        Column("allocation", Kind.PERCENT, points=True),
        Column("due", Kind.MONEY, currency="USD"),
    ]
    assert exports.csv_row(columns, [Decimal("0.950000"), Decimal("30.0000"), -1]) == [
        "0.950000",
        "30.0000",
        "-1",
    ]
    assert exports.csv_row(columns, ["-1+1", None, "=1"]) == ["'-1+1", "", "'=1"]


def test_money_formats() -> None:
    assert exports.money_format("usd") == '"$"#,##0.00'
    assert exports.money_format("GBP") == '"£"#,##0.00'
    assert exports.money_format("JPY") == '#,##0.00 "JPY"'
    assert exports.money_format('"; =1') == "#,##0.00"  # never a code that breaks the format
    assert exports.zone("Not/A_Zone").key == "UTC"


def test_writers_report_their_progress() -> None:
    columns = [Column("n", Kind.INTEGER)]
    rows = [[n] for n in range(exports.REPORT_EVERY * 2 + 5)]
    seen: list[int] = []
    with exports.reporting(seen.append):
        exports.write_xlsx(io.BytesIO(), columns, rows, sheet="s")
        exports.write_csv(io.StringIO(), columns, rows)
    step = exports.REPORT_EVERY
    assert seen == [step, 2 * step, step, 2 * step]
    exports.write_csv(io.StringIO(), columns, rows)  # outside the block: nobody is told
    assert len(seen) == 4


def test_xlsx_survives_what_the_file_format_forbids() -> None:
    """Control characters (a name pasted from a terminal) and text longer than a cell holds
    would make openpyxl refuse or Excel reject the file: replaced and cut instead."""
    columns = [Column("text"), Column("number", Kind.DECIMAL)]
    rows: list[list[object]] = [
        ["Bell\x07 and NUL\x00", Decimal("NaN")],
        ["x" * 40_000, float("inf")],
        [None, None],
        ["", -(10**17) - 3],
    ]
    sheet = _workbook(columns, rows).active
    assert sheet["A2"].value == "Bell\ufffd and NUL\ufffd"
    assert sheet["B2"].value == "NaN" and sheet["B2"].data_type == "s"
    assert len(sheet["A3"].value) == exports.XLSX_MAX_TEXT
    assert sheet["B3"].value == "inf"
    assert sheet["A4"].value is None and sheet["B4"].value is None
    assert sheet["B5"].value == "'-100000000000000003"  # too long for Excel: exact text


def test_export_response_knows_its_formats() -> None:
    columns = [Column("n", Kind.INTEGER)]
    xlsx = exports.export_response("xlsx", columns, [[1]], name="things", sheet="Things")
    assert xlsx["Content-Type"] == exports.XLSX_TYPE
    assert 'filename="things.xlsx"' in xlsx["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    assert book.active["A2"].value == 1
    with pytest.raises(ValueError, match="unknown export format 'pdf'"):
        exports.export_response("pdf", columns, [], name="things")


def test_file_slug_and_sheet_title() -> None:
    assert exports.file_slug('=HYPERLINK("http://x")') == "hyperlink-http-x"
    assert exports.file_slug("+++") == "export"
    assert exports.sheet_title("") == "Export"
    assert len(exports.sheet_title("a" * 40)) == 31


@pytest.mark.django_db
def test_a_table_exports_field_values_typed_and_other_values_as_shown(world) -> None:
    Organization.objects.filter(pk=world.alpha.pk).update(size=1200, size_unit="beds")
    world.alpha.refresh_from_db()
    table = OrganizationTable(Organization.objects.filter(pk=world.alpha.pk))
    columns, rows = exports.table_export(table)
    assert [(c.header, c.kind) for c in columns] == [
        ("Name", Kind.TEXT),
        ("Kind", Kind.TEXT),  # a choice: its label, as the page shows it
        ("Time zone", Kind.TEXT),
        ("Size", Kind.INTEGER),  # the number, not the page's "1,200 beds"
    ]
    assert list(rows) == [["Alpha Health", "Health system", world.alpha.time_zone, 1200]]

    people = PersonTable(User.objects.filter(pk=world.sponsor.pk))
    columns, rows = exports.table_export(people)
    kinds = {c.header: c.kind for c in columns}
    assert kinds["Administrator"] == kinds["Active"] == Kind.BOOLEAN
    assert kinds["Name"] == kinds["Organization"] == Kind.TEXT
    [row] = list(rows)
    assert row[-2:] == [False, True]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("table_class", "model_name"),
    [
        ("OrganizationTable", "Organization"),
        ("PersonTable", "User"),
        ("EngagementTable", "Engagement"),
        ("ChangeLogTable", "ChangeLog"),
    ],
)
def test_text_cells_are_what_django_tables2_would_export(world, table_class, model_name):
    """The export reads each value function's signature once; the values are still exactly
    django-tables2's own ``get_cell_value``."""
    from django_tables2.rows import BoundRow

    from tandem.core import models, tables

    table = getattr(tables, table_class)(getattr(models, model_name).objects.all())
    columns, rows = exports.table_export(table)
    bound = [c for c in table.columns.iterall() if not c.column.exclude_from_export]
    records = list(table.data.data)
    assert records
    for record, row in zip(records, rows, strict=True):
        expected = BoundRow(record, table=table)
        for column, spec, value in zip(bound, columns, row, strict=True):
            if spec.kind in (Kind.TEXT, Kind.AUTO):
                assert value == expected.get_cell_value(column.name), (column.name, record)
