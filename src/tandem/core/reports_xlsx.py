"""Workbook reports of several sheets, through the one export writer (``exports.write_workbook``).

A report (e.g. a contract's obligations beside its scope items) is a list of :class:`Sheet`:
each sheet's columns are typed exactly as an export's (formulas neutralized, money with its
currency's format, instants in the report's zone), because every cell goes through
:func:`tandem.core.exports.write_workbook`. A one-table download stays ``?export=xlsx`` on the
list itself; this is for reports that put several tables in one file.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse

from tandem.core.exports import XLSX_TYPE, Column, write_workbook


@dataclass(frozen=True)
class Sheet:
    """One sheet of a report: its title (made valid and unique), typed columns and rows."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]


def _write(stream: Any, sheets: Sequence[Sheet], time_zone: str) -> None:
    if not sheets:
        raise ValueError("a report needs at least one sheet")
    write_workbook(stream, [(s.title, s.columns, s.rows) for s in sheets], time_zone=time_zone)


def render_xlsx(sheets: Sequence[Sheet], *, time_zone: str = "UTC") -> bytes:
    """The workbook's bytes: one sheet per :class:`Sheet`, in order."""
    with tempfile.TemporaryFile(suffix=".xlsx") as handle:
        _write(handle, sheets, time_zone)
        handle.seek(0)
        return handle.read()


def xlsx_report_response(
    sheets: Sequence[Sheet], *, filename: str, time_zone: str = "UTC"
) -> FileResponse:
    """The workbook as a download (a temporary file, deleted when the response closes)."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    try:
        _write(handle, sheets, time_zone)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
