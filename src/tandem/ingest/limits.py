"""How much one export may hold: the limits every reader enforces while it reads.

A reader checks these *before* it builds anything from the file, so a hostile or runaway
export (a 3 MB workbook that expands to millions of rows, a gzip bomb, one endless line) is
refused in seconds with bounded memory, with a message naming the limit, the file and where
reading stopped:

- ``max_bytes``: the bytes of text a file may expand to. For a plain CSV that is its size on
  disk; a gzip-compressed CSV is decompressed in bounded chunks and reading stops at this many
  bytes; for an XLSX workbook it bounds the decompressed parts openpyxl reads (each sheet and
  the shared-strings table, and their sum), measured by reading them, not by trusting the
  sizes the archive declares.
- ``max_rows``: data rows (the header is not counted). Polars stops reading after one more
  than this; openpyxl stops there too, and a workbook is refused before openpyxl opens it
  when its first sheet's XML holds more rows. A worksheet never holds more than
  :data:`XLSX_MAX_ROWS` rows (Excel's own limit), whatever this says.
- ``max_columns``: columns in the header row.
- ``max_cell_chars``: characters in one cell of the columns a reader reads (free text
  included); in a workbook, also the longest run of text between two XML tags.
- ``deadline`` (optional): a ``time.monotonic()`` instant after which the reader stops at
  its next step, raising :class:`~tandem.ingest.errors.ReadingStopped` (not an
  ``IngestError``: the file is not at fault). The readers look at the clock between their
  stages and once per chunk of their chunked loops (gzip decompression, the line-length
  pass, the workbook's XML scan, every few thousand rows openpyxl or the csv module
  yields), never per row; a Polars scan cannot be interrupted, so the clock is read before
  and after it. :meth:`Limits.lasting` sets it from a budget in seconds, which the message
  then names. A caller that runs a reader in a thread of its own (the import wizard's
  preview) thus sees the thread end soon after its budget.

The defaults fit the largest exports Tandem is built for (tens of millions of rows, as the
10,000,000-ticket benchmark reads); the Django side narrows them from settings
(``TANDEM_MAX_IMPORT_BYTES``, ``TANDEM_IMPORT_MAX_ROWS``, ``TANDEM_IMPORT_MAX_COLUMNS``,
``TANDEM_IMPORT_MAX_CELL_CHARS``; see docs/configuration.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from tandem.ingest.errors import ReadingStopped

#: The most rows and columns an Excel worksheet holds (1,048,576 x 16,384 = XFD).
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384
#: Where to look for the end of the header row: a header longer than this is refused.
MAX_HEADER_BYTES = 1024 * 1024
#: The advice every size limit ends with.
SPLIT = "split the export (for example by month) and import the parts"


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits one read enforces (see the module docstring). All must be positive."""

    max_bytes: int = 2 * 1024**3
    max_rows: int = 20_000_000
    max_columns: int = 2_000
    max_cell_chars: int = 32_767
    #: A ``time.monotonic()`` instant to stop at (None: no time limit).
    deadline: float | None = None
    #: The budget in seconds ``deadline`` was set from (for the message only).
    budget: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_rows", "max_columns", "max_cell_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, not {value!r}")
        for name in ("deadline", "budget"):
            value = getattr(self, name)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and not number:
                raise ValueError(f"Limits.{name} must be seconds (a number) or None, not {value!r}")

    def lasting(self, seconds: float) -> Limits:
        """These limits, stopping the reading ``seconds`` from now."""
        return replace(self, deadline=time.monotonic() + seconds, budget=seconds)

    def check_time(self, file: str) -> None:
        """Raise :class:`ReadingStopped` once ``deadline`` has passed (cheap: one clock
        read; callers call it per stage or chunk, never per row)."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise ReadingStopped(file, self.budget)

    @property
    def xlsx_rows(self) -> int:
        """Data rows a workbook may hold: ``max_rows``, at most a worksheet's own limit."""
        return min(self.max_rows, XLSX_MAX_ROWS - 1)


#: What readers use when the caller passes no limits.
DEFAULT_LIMITS = Limits()


def rows_reason(limit: int) -> str:
    return f"more than {limit:,} data rows (the limit); {SPLIT}"


def bytes_reason(limit: int, what: str = "the file") -> str:
    return f"{what} expands to more than {limit:,} bytes (the limit); {SPLIT}"


def columns_reason(count: int | None, limit: int) -> str:
    has = f"{count:,} columns" if count is not None else "more columns"
    return f"the header has {has}, over the limit of {limit:,}; export only the columns needed"


def cell_reason(chars: int, limit: int) -> str:
    return f"a cell of {chars:,} characters, over the limit of {limit:,}"
