"""Shared constants and the result type of every reader."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

import polars as pl

Source = Path | IO[bytes]

#: Cells that mean "no value" in real exports (compared after stripping spaces).
MISSING = ("", "?", "NA", "N/A", "NS", "null", "NULL", "None", "#MULTIVALUE")
#: The column that carries each row's number as a person counts it (header = row 1).
ROW = "_row"
#: Bytes looked at to sniff a file: the header, binary junk, the format.
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Imported:
    """The canonical frames read from one export.

    ``tickets`` and ``holds`` follow ``tandem.analytics.frames.TICKETS`` / ``HOLDS`` exactly
    (plus ``short_description`` at the end of ``tickets`` when read with ``keep_text=True``).
    ``extras`` carries tool-reported values worth showing beside Tandem's (for the event log:
    ``ticket_id``, ``made_sla``).
    """

    tickets: pl.DataFrame
    holds: pl.DataFrame
    warnings: list[str]
    format: str
    rows_read: int
    extras: pl.DataFrame | None = None
