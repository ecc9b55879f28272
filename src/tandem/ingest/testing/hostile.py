"""A corpus of malformed and hostile exports, written by code: one function per class of
file, each writing its file into a folder and returning its path.

Every path that reads exports (the readers, the import wizard, ``tandem import-tickets``,
``tandem sla measure``) must refuse each of them in seconds with bounded memory, with a
message naming the file and the limit, or the row and column. :data:`HOSTILE_FILES` maps a
name to its writer; :data:`EXPECTED` to a fragment the refusal's message must contain.

For tests only: nothing in the engine imports this module.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

HEADER = "ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group"
ROW = "INC{n:07d},P2,2025-03-03T09:00:00Z,2025-03-03T09:10:00Z,2025-03-03T11:00:00Z,Desk"
#: ServiceNow list columns, for the workbooks (an XLSX export is a ServiceNow list).
SN_HEADER = ("Number", "Priority", "Opened", "Resolved", "Assignment group")

Writer = Callable[[Path], Path]


def _good_rows(count: int, start: int = 1) -> str:
    return "".join(ROW.format(n=n) + "\n" for n in range(start, start + count))


# --- Workbooks ---------------------------------------------------------------------------


def _workbook_parts() -> dict[str, bytes]:
    """The parts of a small, valid ServiceNow workbook (header and one row)."""
    import openpyxl  # type: ignore[import-untyped]

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(SN_HEADER))
    ws.append(["INC0000001", "1 - Critical", "2025-03-03 09:00:00", "", "Desk"])
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_workbook(path: Path, replace: dict[str, Callable[[io.BufferedIOBase], None]]) -> Path:
    """The small workbook, with the parts in ``replace`` streamed by their writers."""
    parts = _workbook_parts()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in parts.items():
            if name in replace:
                with archive.open(name, "w", force_zip64=True) as out:
                    replace[name](out)  # type: ignore[arg-type]
            else:
                archive.writestr(name, data)
        for name, writer in replace.items():
            if name not in parts:
                with archive.open(name, "w", force_zip64=True) as out:
                    writer(out)  # type: ignore[arg-type]
    return path


_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData>"
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def _inline_row(values: tuple[str, ...]) -> bytes:
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
    return f"<row>{cells}</row>".encode()


def xlsx_three_million_rows(folder: Path) -> Path:
    """A workbook of about 3 MB whose sheet expands to 3,000,000 rows."""

    def sheet(out: io.BufferedIOBase) -> None:
        out.write(_SHEET_HEAD + _inline_row(SN_HEADER))
        row = _inline_row(("INC1", "1 - Critical", "2025-03-03 09:00:00", "", "Desk"))
        block = row * 10_000
        for _ in range(300):
            out.write(block)
        out.write(_SHEET_TAIL)

    return _write_workbook(folder / "tickets.xlsx", {"xl/worksheets/sheet1.xml": sheet})


def xlsx_shared_string_bomb(folder: Path) -> Path:
    """A shared-strings table holding one string of 200,000,000 characters."""

    def strings(out: io.BufferedIOBase) -> None:
        out.write(
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            b'count="1" uniqueCount="1"><si><t>'
        )
        block = b"a" * 1_000_000
        for _ in range(200):
            out.write(block)
        out.write(b"</t></si></sst>")

    return _write_workbook(folder / "strings.xlsx", {"xl/sharedStrings.xml": strings})


def xlsx_huge_column_count(folder: Path) -> Path:
    """A header row of 16,384 columns (XFD, a worksheet's widest) and one data row."""

    def sheet(out: io.BufferedIOBase) -> None:
        names = (*SN_HEADER, *(f"extra {i}" for i in range(16_384 - len(SN_HEADER))))
        out.write(_SHEET_HEAD + _inline_row(names))
        out.write(_inline_row(("INC1", "1 - Critical", "2025-03-03 09:00:00", "", "Desk")))
        out.write(_SHEET_TAIL)

    return _write_workbook(folder / "wide.xlsx", {"xl/worksheets/sheet1.xml": sheet})


def xlsx_lying_sizes(folder: Path) -> Path:
    """The 3,000,000-row workbook with its sheet's declared size rewritten to 1,000 bytes
    in both the local header and the ZIP directory: reading must stop at what is declared
    (and then fail the checksum), never decompress the whole sheet."""
    path = xlsx_three_million_rows(folder)
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at, extra_len_at, name_len_at, header in (
        (b"PK\x03\x04", 22, 28, 26, 30),
        (b"PK\x01\x02", 24, 30, 28, 46),
    ):
        at = data.find(signature)
        while at >= 0:
            (name_len,) = struct.unpack_from("<H", data, at + name_len_at)
            if bytes(data[at + header : at + header + name_len]) == name:
                struct.pack_into("<I", data, at + size_at, 1_000)
                (extra_len,) = struct.unpack_from("<H", data, at + extra_len_at)
                extra_at = at + header + name_len
                extra = data[extra_at : extra_at + extra_len]
                if extra[:2] == b"\x01\x00":  # ZIP64: the real sizes are here
                    struct.pack_into("<Q", data, extra_at + 4, 1_000)
            at = data.find(signature, at + 4)
    out = folder / "lying.xlsx"
    out.write_bytes(bytes(data))
    path.unlink()
    return out


def zip_not_xlsx(folder: Path) -> Path:
    """A ZIP archive holding a CSV, named like a workbook."""
    path = folder / "export.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("tickets.csv", HEADER + "\n" + _good_rows(3))
    return path


# --- gzip --------------------------------------------------------------------------------


def _gzip_member(block: bytes, repeat: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [packer.compress(block) for _ in range(repeat)]
    parts.append(packer.flush())
    return b"".join(parts)


def gzip_bomb_of_zeros(folder: Path) -> Path:
    """About 10 MB of gzip that expands to 10 GiB of zero bytes (100 equal members)."""
    member = _gzip_member(bytes(1024 * 1024), 100)
    path = folder / "zeros.csv.gz"
    with path.open("wb") as out:
        for _ in range(100):
            out.write(member)
    return path


def gzip_bomb_of_lines(folder: Path) -> Path:
    """About 10 MB of gzip that expands to 10 GiB of one CSV line repeated, under a header."""
    line = (ROW.format(n=1) + "\n").encode()
    block = line * (1024 * 1024 // len(line))
    member = _gzip_member(block, 100)
    path = folder / "lines.csv.gz"
    with path.open("wb") as out:
        out.write(gzip.compress((HEADER + "\n").encode()))
        for _ in range(100):
            out.write(member)
    return path


# --- CSV ---------------------------------------------------------------------------------


def csv_one_long_line(folder: Path) -> Path:
    """One line of 500 MB: a ticket id of 500,000,000 characters."""
    path = folder / "long_line.csv"
    with path.open("wb") as out:
        out.write((HEADER + "\n").encode())
        block = b"9" * 10_000_000
        for _ in range(50):
            out.write(block)
        out.write(b",P1,2025-03-03T09:00:00Z,,,Desk\n")
    return path


def csv_ten_megabyte_cell(folder: Path) -> Path:
    """An assignment group of 10,000,000 characters on the third data row."""
    path = folder / "big_cell.csv"
    big = "G" * 10_000_000
    path.write_text(
        HEADER + "\n" + _good_rows(2) + ROW.format(n=3).replace("Desk", big) + "\n", "utf-8"
    )
    return path


def csv_hundred_thousand_columns(folder: Path) -> Path:
    """A header of 100,000 columns."""
    path = folder / "wide.csv"
    names = HEADER.split(",") + [f"c{i}" for i in range(100_000 - 6)]
    path.write_text(",".join(names) + "\n" + ROW.format(n=1) + "," * (100_000 - 6) + "\n")
    return path


def csv_millions_of_empty_lines(folder: Path) -> Path:
    """A header, one ticket and 5,000,000 empty lines."""
    path = folder / "empty_lines.csv"
    with path.open("wb") as out:
        out.write((HEADER + "\n" + _good_rows(1)).encode())
        out.write(b"\n" * 5_000_000)
    return path


def csv_deeply_ragged(folder: Path) -> Path:
    """Rows of ever more fields: row 4 has 50,006, row 5 20,006."""
    path = folder / "ragged.csv"
    rows = [ROW.format(n=1), ROW.format(n=2), ROW.format(n=3) + ",x" * 50_000]
    rows += [ROW.format(n=4) + ",x" * 20_000]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    return path


def csv_nul_bytes(folder: Path) -> Path:
    """2,000 good rows, then a ticket id holding NUL bytes (past the sniffed head)."""
    path = folder / "nul.csv"
    text = HEADER + "\n" + _good_rows(2_000) + ROW.format(n=9_999).replace("INC", "IN\x00\x00C")
    path.write_bytes((text + "\n").encode())
    return path


def csv_invalid_utf8(folder: Path) -> Path:
    """Latin-1 bytes in the first rows: not UTF-8."""
    path = folder / "latin1.csv"
    latin1 = b"INC9,P1,2025-03-03T09:00:00Z,,,Caf\xe9\xff\xfe\n"
    path.write_bytes((HEADER + "\n" + _good_rows(2)).encode() + latin1)
    return path


def csv_header_only(folder: Path) -> Path:
    path = folder / "header_only.csv"
    path.write_text(HEADER + "\n")
    return path


# --- What storing would refuse -----------------------------------------------------------


def _one_bad_row(folder: Path, name: str, row: str) -> Path:
    path = folder / name
    path.write_text(HEADER + ",reopen_count\n" + _good_rows(2).replace("\n", ",0\n") + row + "\n")
    return path


def id_too_long(folder: Path) -> Path:
    return _one_bad_row(folder, "long_id.csv", ROW.format(n=3).replace("INC", "X" * 101) + ",0")


def group_too_long(folder: Path) -> Path:
    return _one_bad_row(folder, "long_group.csv", ROW.format(n=3).replace("Desk", "G" * 201) + ",0")


def negative_count(folder: Path) -> Path:
    return _one_bad_row(folder, "negative.csv", ROW.format(n=3) + ",-2")


def offset_beyond_fourteen_hours(folder: Path) -> Path:
    row = ROW.format(n=3).replace("2025-03-03T09:00:00Z", "2025-03-03T09:00:00+25:00", 1)
    return _one_bad_row(folder, "offset.csv", row + ",0")


def year_out_of_range(folder: Path) -> Path:
    row = ROW.format(n=3).replace("2025-03-03T11:00:00Z", "2999-03-03T11:00:00Z")
    return _one_bad_row(folder, "year.csv", row + ",0")


HOSTILE_FILES: dict[str, Writer] = {
    "xlsx_three_million_rows": xlsx_three_million_rows,
    "xlsx_shared_string_bomb": xlsx_shared_string_bomb,
    "xlsx_huge_column_count": xlsx_huge_column_count,
    "xlsx_lying_sizes": xlsx_lying_sizes,
    "zip_not_xlsx": zip_not_xlsx,
    "gzip_bomb_of_zeros": gzip_bomb_of_zeros,
    "gzip_bomb_of_lines": gzip_bomb_of_lines,
    "csv_one_long_line": csv_one_long_line,
    "csv_ten_megabyte_cell": csv_ten_megabyte_cell,
    "csv_hundred_thousand_columns": csv_hundred_thousand_columns,
    "csv_millions_of_empty_lines": csv_millions_of_empty_lines,
    "csv_deeply_ragged": csv_deeply_ragged,
    "csv_nul_bytes": csv_nul_bytes,
    "csv_invalid_utf8": csv_invalid_utf8,
    "csv_header_only": csv_header_only,
    "id_too_long": id_too_long,
    "group_too_long": group_too_long,
    "negative_count": negative_count,
    "offset_beyond_fourteen_hours": offset_beyond_fourteen_hours,
    "year_out_of_range": year_out_of_range,
}

#: Every file of the corpus, by name (for ``parametrize``).
HOSTILE_NAMES: list[str] = sorted(HOSTILE_FILES)

#: A fragment of the refusal each file gets, with the default limits.
EXPECTED: dict[str, str] = {
    "xlsx_three_million_rows": "tickets.xlsx: more than 1,048,575 data rows (the limit)",
    "xlsx_shared_string_bomb": "strings.xlsx: a cell of more than 32,767 characters",
    "xlsx_huge_column_count": "wide.xlsx, row 1: the header has more columns, over the limit",
    "xlsx_lying_sizes": "lying.xlsx: not a readable XLSX workbook",
    "zip_not_xlsx": "export.xlsx: a ZIP archive, not an XLSX workbook",
    "gzip_bomb_of_zeros": "zeros.csv.gz: not a text file (binary data: NUL bytes)",
    "gzip_bomb_of_lines": "lines.csv.gz: decompressed, the file expands to more than",
    "csv_one_long_line": "long_line.csv, row 2: this line is longer than 786,426 bytes",
    "csv_ten_megabyte_cell": "big_cell.csv, row 4: this line is longer than 786,426 bytes",
    "csv_hundred_thousand_columns": "wide.csv, row 1: the header has 100,000 columns",
    "csv_millions_of_empty_lines": "empty_lines.csv, row 3: the row is empty in every column read",
    "csv_deeply_ragged": "ragged.csv, row 4: this row has 50,006 fields, the header 6",
    "csv_nul_bytes": "nul.csv, row 2002, column 'ticket_id': the value holds a NUL",
    "csv_invalid_utf8": "latin1.csv: not UTF-8 text",
    "csv_header_only": "header_only.csv: the file has a header but no data rows",
    "id_too_long": "long_id.csv, row 4, column 'ticket_id': 108 characters, over the limit of 100",
    "group_too_long": "long_group.csv, row 4, column 'assignment_group': 201 characters",
    "negative_count": "negative.csv, row 4, column 'reopen_count': '-2' is negative",
    "offset_beyond_fourteen_hours": "offset.csv, row 4, column 'opened_at': "
    "'2025-03-03T09:00:00+25:00' has a UTC offset beyond ±14:00",
    "year_out_of_range": "year.csv, row 4, column 'resolved_at': "
    "'2999-03-03T11:00:00Z' is outside the years 1990-2100",
}
