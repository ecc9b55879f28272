"""Workbook reports: several typed sheets through the one export writer (formulas defused,
money and percentages as numbers), unique valid sheet names, a download response."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from tandem.core.exports import Column, Kind
from tandem.core.reports_xlsx import Sheet, render_xlsx, xlsx_report_response


def _sheets() -> list[Sheet]:
    obligations = Sheet(
        "Obligations",
        [
            Column("Title"),
            Column("Due", Kind.DATETIME),
            Column("Penalty", Kind.MONEY, currency="USD"),
        ],
        [['=HYPERLINK("http://x")', datetime(2025, 3, 5, 15, tzinfo=UTC), Decimal("250.00")]],
    )
    attainment = Sheet(
        "Obligations",  # the same name twice: the second is renamed
        [Column("Priority"), Column("Attainment", Kind.PERCENT)],
        [["P1", Decimal("0.953")], ["P2", Decimal("1")]],
    )
    return [obligations, attainment, Sheet("a/b:c*d?" + "x" * 40, [Column("n")], [])]


def test_several_sheets_through_the_export_writer() -> None:
    book = openpyxl.load_workbook(io.BytesIO(render_xlsx(_sheets(), time_zone="America/Chicago")))
    assert book.sheetnames == ["Obligations", "Obligations (2)", "a b c d " + "x" * 23]
    first = book["Obligations"]
    assert [c.value for c in first[1]] == ["Title", "Due (America/Chicago)", "Penalty"]
    title, due, penalty = (c.value for c in first[2])
    assert title == '\'=HYPERLINK("http://x")'  # neutralized, as every export
    assert due == datetime(2025, 3, 5, 9, 0)  # 15:00 UTC in Chicago (CST)
    assert penalty == 250 and "$" in first.cell(2, 3).number_format
    second = book["Obligations (2)"]
    assert second.cell(2, 2).value == pytest.approx(0.953)
    assert "%" in second.cell(2, 2).number_format


def test_a_report_needs_a_sheet_and_downloads_as_a_file() -> None:
    with pytest.raises(ValueError, match="at least one sheet"):
        render_xlsx([])
    response = xlsx_report_response(_sheets(), filename="report.xlsx")
    assert response["Content-Disposition"] == 'attachment; filename="report.xlsx"'
    body = b"".join(response.streaming_content)
    response.file_to_stream.close()  # (response.close() would signal the request finished)
    assert openpyxl.load_workbook(io.BytesIO(body)).sheetnames[0] == "Obligations"
