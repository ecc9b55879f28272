"""One entry point for every format: ``read_export(source, format=...)``."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from tandem.ingest._common import SNIFF_BYTES, Imported
from tandem.ingest.detect import FORMATS, detect_format
from tandem.ingest.errors import Problems
from tandem.ingest.generic import read_generic
from tandem.ingest.glpi import read_glpi
from tandem.ingest.jira import read_jira
from tandem.ingest.limits import DEFAULT_LIMITS, Limits
from tandem.ingest.servicenow import read_servicenow, read_servicenow_events

READERS: dict[str, Callable[..., Imported]] = {
    "generic": read_generic,
    "servicenow": read_servicenow,
    "servicenow-events": read_servicenow_events,
    "jira": read_jira,
    "glpi": read_glpi,
}


def read_export(
    source: Path | IO[bytes],
    format: str | None = None,
    *,
    file_name: str | None = None,
    limits: Limits | None = None,
    **options: Any,
) -> Imported:
    """Read ``source`` with the reader for ``format`` (detected from the header when None).

    ``options`` go to the reader: ``timezone``, ``mapping``, ``keep_text``, ``date_format``
    (how the timestamps are written when the reader cannot tell: see
    :mod:`tandem.ingest.dates`). A stream is read once (at most ``limits.max_bytes`` and
    one byte of it): its head is sniffed from the same bytes the reader gets.

    ``limits`` (:class:`tandem.ingest.limits.Limits`, default ``DEFAULT_LIMITS``) bound
    what any reader reads: size, decompressed size, rows, columns, cell length. Every
    reader also validates each value against what the database would refuse at write
    time (:mod:`tandem.ingest.validation`). Anything wrong raises :class:`IngestError`
    whose problems name the file, the row (header = row 1) and the column.
    """
    limits = limits or DEFAULT_LIMITS
    if format is not None and format not in READERS:
        name = file_name or (source.name if isinstance(source, Path) else "upload")
        known = ", ".join(FORMATS)
        raise Problems(name).fail(None, None, f"unknown format '{format}'; use one of {known}")
    if format is None:
        if isinstance(source, Path):
            format = detect_format(source, file_name, limits)
        else:
            data = source.read(limits.max_bytes + 1)
            format = detect_format(data[:SNIFF_BYTES], file_name, limits)
            source = io.BytesIO(data)
    return READERS[format](source, file_name=file_name, limits=limits, **options)
