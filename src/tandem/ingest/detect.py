"""Which reader fits an export, from its header."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from tandem.ingest._common import (
    FORMAT_NAMES,
    SNIFF_BYTES,
    is_xlsx,
    norm,
    open_source,
    read_header,
)
from tandem.ingest.errors import IngestError, Problems
from tandem.ingest.limits import Limits

FORMATS = tuple(FORMAT_NAMES)


def guess_from_header(header: Sequence[str]) -> str | None:
    """The format whose tell-tale columns ``header`` has, or None."""
    names = {norm(h) for h in header}
    if "issuekey" in names:
        return "jira"
    if "number" in names and "sysupdatedat" in names:
        return "servicenow-events"
    if "number" in names:
        return "servicenow"
    if "ticketid" in names:
        return "generic"
    if ("id" in names and "date" in names) or {"id", "openingdate"} <= names:
        return "glpi"
    return None


def detect_format(
    source: Path | bytes, file_name: str | None = None, limits: Limits | None = None
) -> str:
    """``generic``, ``servicenow``, ``servicenow-events``, ``jira`` or ``glpi``.

    ``source`` is a path or the first bytes of the file (a few KiB are enough; an XLSX
    workbook is recognised by its first bytes and is always a ServiceNow list export).
    Raises :class:`IngestError` when no format fits, or when the file breaks ``limits``
    in what detection reads (its size, its header, a workbook's parts).
    """
    if isinstance(source, bytes):
        name = file_name or "upload"
        head = source[:SNIFF_BYTES]
        if is_xlsx(head):
            return "servicenow"
        opened = open_source(io.BytesIO(source), name, limits, head_only=True)
    else:
        opened = open_source(source, file_name, limits, head_only=True)
        if is_xlsx(opened.head):
            from tandem.ingest._common.workbook import xlsx_header

            header = xlsx_header(opened, Problems(opened.name))
            guess = guess_from_header(header)
            if guess == "servicenow":
                return guess
            raise _none_fits(opened.name, header)
    problems = Problems(opened.name)
    header = read_header(opened, problems)
    guess = guess_from_header(header)
    if guess is None:
        raise _none_fits(opened.name, header)
    return guess


def _none_fits(name: str, header: Sequence[str]) -> IngestError:
    shown = ", ".join(f"'{h}'" for h in header[:8]) + (" ..." if len(header) > 8 else "")
    reason = (
        f"cannot tell which export this is from its header ({shown or 'no columns'}); "
        "expected a ServiceNow list ('Number'), ServiceNow event log ('number', "
        "'sys_updated_at'), Jira ('Issue key'), GLPI ('id', 'date') or generic CSV "
        "('ticket_id', 'opened_at') export"
    )
    return Problems(name).fail(1, None, reason)
