"""Shared by the ingest tests: fixture paths and frames built from readable literals."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from tandem.analytics.frames import HOLDS, TICKETS

FIXTURES = Path(__file__).parent / "fixtures"


def utc(text: str | None) -> datetime | None:
    """``"2025-03-03 08:00:00"`` as an aware UTC datetime (None stays None)."""
    if text is None:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tickets(*rows: dict[str, object]) -> pl.DataFrame:
    """A TICKETS frame; instants given as ``"YYYY-MM-DD HH:MM:SS"`` strings in UTC."""
    full = []
    for r in rows:
        row: dict[str, object] = dict.fromkeys(TICKETS)
        row.update(r)
        for c in ("opened_at", "responded_at", "resolved_at", "closed_at"):
            row[c] = utc(row[c])  # type: ignore[arg-type]
        full.append(row)
    return pl.DataFrame(full, schema=TICKETS, orient="row")


def holds(*rows: tuple[str, str, str | None]) -> pl.DataFrame:
    return pl.DataFrame([(t, utc(s), utc(e)) for t, s, e in rows], schema=HOLDS, orient="row")


def source(text: str, name: str = "upload.csv") -> tuple[io.BytesIO, str]:
    return io.BytesIO(text.encode()), name
