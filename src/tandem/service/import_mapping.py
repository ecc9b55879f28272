"""Column mapping for generic CSV imports: which of the file's columns feeds which field.

The generic reader (``tandem.ingest.generic``) reads Tandem's own column names, or any
others through ``mapping`` (canonical name -> file column) and ``priority_map`` (raw value
-> P1..P4 or None). The wizard builds that mapping with the person importing: it reads the
file's *header only* (the first 64 KiB), guesses a column for each field from its name and
common synonyms, and - in the preview task, which reads the file anyway - counts the
distinct values of the priority column so each can be mapped to P1..P4.

What the preview needs of all this is :func:`mapping_source`: plain JSON kept beside the
preview in the staging folder, so showing the form again never re-reads the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from tandem.ingest.generic import ALIASES, PRIORITIES, REQUIRED

#: Bytes read for the header (a header longer than this is not a ticket export).
HEADER_BYTES = 64 * 1024
#: Columns the form offers at most (a file with more is no export to map by hand: each of
#: its selects would list them all).
MAX_COLUMNS = 500
#: How many distinct priority values the form offers to map.
PRIORITY_VALUES = 30
#: Fields that may read the same file column (an export with one "Resolved/closed" date).
SHARED = frozenset({"resolved_at", "closed_at"})
#: The priority-value choice for "this value means no priority".
NO_PRIORITY = "none"


@dataclass(frozen=True)
class MappedField:
    """One canonical field of the generic reader, as the mapping form shows it."""

    name: str
    label: str
    help: str
    synonyms: str = ""  # as ``norm`` makes them, space-separated, best first

    @property
    def required(self) -> bool:
        return self.name in {name for name, _ in REQUIRED}


# Synonyms are compared as ``norm`` makes them (lower case, letters and digits only); the
# first that matches a column not taken by a better match wins.
FIELDS: tuple[MappedField, ...] = (
    MappedField(
        "ticket_id",
        "Ticket number",
        "The ticket's unique number or key, e.g. INC0010001.",
        "number ticketnumber ticket ticketno incident incidentnumber id key issuekey ref "
        "reference casenumber case requestid",
    ),
    MappedField(
        "priority",
        "Priority",
        "P1-P4, 1-4 or labels such as '1 - Critical'; other values are mapped below.",
        "prio severity sev priorityname ticketpriority",
    ),
    MappedField(
        "opened_at",
        "Opened",
        "When the ticket was opened: the start of every service-level clock.",
        "opened openedon created createdat createdon creationdate datecreated dateopened "
        "opendate openingdate submitted submittedat reported reportedat logged loggedat "
        "raised start",
    ),
    MappedField(
        "responded_at",
        "Responded",
        "First response or acknowledgement: the end of the response clock.",
        "responded respondedon firstresponse firstresponseat firstresponded responsedate "
        "acknowledged acknowledgedat ackedat takeninchargeat responded firstreply replied",
    ),
    MappedField(
        "resolved_at",
        "Resolved",
        "When it was resolved: the end of the resolution clock (empty: still open).",
        "resolved resolvedon resolution resolutiondate dateresolved solved solvedate solvedat "
        "fixed fixedat completed completedat end",
    ),
    MappedField(
        "closed_at",
        "Closed",
        "When it was closed, if the tool records it apart from resolution.",
        "closed closedon closedate dateclosed closingdate",
    ),
    MappedField(
        "assignment_group",
        "Assignment group",
        "The team that worked it: maps to the client team or the vendor for parity.",
        "assignedtogroup assignedgroup group team supportgroup resolvergroup queue "
        "assignmentteam assignedteam owninggroup",
    ),
    MappedField(
        "category",
        "Category",
        "Any category the tool records (kept as it is).",
        "categories ticketcategory service subcategory",
    ),
    MappedField(
        "kind",
        "Kind",
        "Incident, request or other (anything else is read as other).",
        "type tickettype issuetype recordtype class",
    ),
    MappedField(
        "reassignment_count",
        "Reassignment count",
        "How many times it changed group (a whole number).",
        "reassignments reassigned groupchanges hops",
    ),
    MappedField(
        "reopen_count",
        "Reopen count",
        "How many times it was reopened (a whole number).",
        "reopens reopened timesreopened",
    ),
)
SHORT_DESCRIPTION = MappedField(
    "short_description",
    "Short description",
    "Kept only because you chose to keep free text.",
    "description summary title subject",
)


def fields_for(*, keep_text: bool) -> tuple[MappedField, ...]:
    """The fields the generic reader reads (the short description only when text is kept)."""
    return (*FIELDS, SHORT_DESCRIPTION) if keep_text else FIELDS


def generic_fields() -> set[str]:
    """The canonical names the generic reader accepts in ``mapping``."""
    return {"priority" if name == "priority_raw" else name for name in ALIASES}


def norm(name: str) -> str:
    """Names compare without case, spaces or punctuation (as the readers compare them)."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


# Reading the header ------------------------------------------------------------------------


def read_header(path: Path) -> list[str] | None:
    """The columns of a CSV file from its first line; None when it is no CSV text file, its
    first line does not end within ``HEADER_BYTES``, or it has more than ``MAX_COLUMNS``."""
    with path.open("rb") as f:
        head = f.read(HEADER_BYTES + 1)
    if not head or head[:4] == b"PK\x03\x04" or b"\x00" in head:
        return None
    if len(head) > HEADER_BYTES and b"\n" not in head[:HEADER_BYTES]:
        return None
    text = head.decode("utf-8-sig", errors="replace")
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return None
    columns = [column.strip() for column in header]
    if len(columns) > MAX_COLUMNS:
        return None
    return columns if len([c for c in columns if c]) >= 2 else None


# Guessing ----------------------------------------------------------------------------------


def default_mapping(header: Sequence[str], fields: Sequence[MappedField]) -> dict[str, str]:
    """What the generic reader finds without a mapping: columns named as the fields."""
    by_norm = _by_norm(header)
    return {f.name: by_norm[norm(f.name)] for f in fields if norm(f.name) in by_norm}


def guess_mapping(header: Sequence[str], fields: Sequence[MappedField]) -> dict[str, str]:
    """A column for each field it can find: its own name first, then common synonyms, then
    synonyms inside a "date"/"time" wording ("Date Logged", "Created On (UTC)").

    A column goes to one field only (the guess never doubles up, though ``resolved_at`` and
    ``closed_at`` may share one by hand), exact names before synonyms.
    """
    by_norm = _by_norm(header)
    by_stem: dict[str, str] = {}
    for column in header:
        by_stem.setdefault(_stem(norm(column)), column)
    found = default_mapping(header, fields)
    taken = set(found.values())
    for lookup in (by_norm, by_stem):
        for f in fields:
            if f.name in found:
                continue
            for synonym in (*f.synonyms.split(), *_id_names(f.name)):
                column = lookup.get(synonym)
                if column is not None and column not in taken:
                    found[f.name] = column
                    taken.add(column)
                    break
    return {f.name: found[f.name] for f in fields if f.name in found}


_WRAPPERS = re.compile(
    r"^(date|time|datetime|timestamp)|(date|time|datetime|timestamp|utc|local)+$"
)


def _stem(key: str) -> str:
    """``datelogged`` -> ``logged``, ``createdonutc`` -> ``createdon``: what a date is *of*."""
    stem = _WRAPPERS.sub("", key)
    return stem or key


def _id_names(name: str) -> tuple[str, ...]:
    """The usual names of a ticket number: "Incident Ref", "Case No", "Request ID"..."""
    if name != "ticket_id":
        return ()
    things = ("incident", "ticket", "case", "request", "issue", "call", "job", "record")
    marks = ("number", "no", "num", "ref", "reference", "id", "key", "code")
    return tuple(thing + mark for thing in things for mark in marks)


def _by_norm(header: Sequence[str]) -> dict[str, str]:
    by_norm: dict[str, str] = {}
    for column in header:
        by_norm.setdefault(norm(column), column)
    return by_norm


def mapping_problems(
    mapping: Mapping[str, str], header: Sequence[str], fields: Sequence[MappedField]
) -> dict[str, str]:
    """Field name -> what is wrong with its column (missing, unknown, used twice)."""
    problems: dict[str, str] = {}
    labels = {f.name: f"{f.label} ({f.name})" for f in fields}
    for f in fields:
        if f.required and not mapping.get(f.name):
            problems[f.name] = f"{labels[f.name]} is required: choose the column that holds it."
    used: dict[str, str] = {}
    for f in fields:
        column = mapping.get(f.name)
        if not column:
            continue
        if column not in header:
            problems[f.name] = f"'{column}' is not a column of this file."
            continue
        first = used.setdefault(column, f.name)
        if first != f.name and not {first, f.name} <= SHARED:
            problems[f.name] = (
                f"'{column}' is already used for {labels[first]}: a column can feed one "
                "field only (Resolved and Closed may share one)."
            )
    return problems


# Priority values ---------------------------------------------------------------------------

_PRIORITY_WORDS = {
    "critical": "P1", "urgent": "P1", "emergency": "P1", "highest": "P1", "sev1": "P1",
    "severity1": "P1", "s1": "P1", "veryhigh": "P1", "blocker": "P1",
    "high": "P2", "major": "P2", "sev2": "P2", "severity2": "P2", "s2": "P2",
    "medium": "P3", "moderate": "P3", "normal": "P3", "sev3": "P3", "severity3": "P3",
    "s3": "P3", "minor": "P3",
    "low": "P4", "lowest": "P4", "planning": "P4", "sev4": "P4", "severity4": "P4",
    "s4": "P4", "verylow": "P4", "trivial": "P4",
}  # fmt: skip


def priority_key(raw: str) -> str:
    """A raw priority as the generic reader looks it up (lower case, single spaces)."""
    return re.sub(r"\s+", " ", raw.lower()).strip()


def builtin_priority(raw: str) -> str | None:
    """What the reader makes of ``raw`` on its own: ``P1``..``P4``, ``none`` or None (unknown)."""
    key = priority_key(raw)
    if key not in PRIORITIES:
        return None
    return PRIORITIES[key] or NO_PRIORITY


def guess_priority(raw: str) -> str:
    """The reader's own reading of ``raw``, else a guess from common words, else ``""``."""
    known = builtin_priority(raw)
    if known is not None:
        return known
    key = norm(raw)
    if key in _PRIORITY_WORDS:
        return _PRIORITY_WORDS[key]
    for word, priority in _PRIORITY_WORDS.items():  # "2 - High", "P2 (High)", "Sev 1"
        if len(word) >= 3 and word in key:
            return priority
    return ""


def priority_values(path: Path, column: str) -> tuple[list[tuple[str, int]], int]:
    """The most frequent values of ``column`` (up to ``PRIORITY_VALUES``) and how many
    distinct values there are. Streams the one column; ``([], 0)`` if it cannot be read."""
    value = pl.col(column).str.strip_chars()
    try:
        counts = (
            pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy", raise_if_empty=False)
            .select(value.alias("value"))
            .filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
            .group_by("value")
            .len()
            .collect(engine="streaming")
        )
    except pl.exceptions.PolarsError:
        return [], 0
    top = counts.sort(["len", "value"], descending=[True, False]).head(PRIORITY_VALUES)
    return [(raw, int(n)) for raw, n in top.iter_rows()], counts.height


# What the preview keeps --------------------------------------------------------------------


def offers_mapping(format: str | None, preview: dict[str, Any]) -> bool:
    """Whether the preview offers the column mapping: for a generic CSV, a file no format
    fits, and a file whose reader missed required columns (it can be read as generic)."""
    if format in (None, "generic"):
        return True
    return not preview.get("ok") and any(
        p["row"] == 1 and "not found" in p["reason"] for p in preview.get("problems", ())
    )


def mapping_source(
    path: Path,
    *,
    keep_text: bool,
    mapping: Mapping[str, str] | None,
    priority_map: Mapping[str, str | None] | None,
    read_values: bool = True,
) -> dict[str, Any] | None:
    """The JSON the mapping form is built from, or None for a file that is no CSV.
    ``read_values=False``: the header only, no pass over the priority column."""
    header = read_header(path)
    if header is None:
        return None
    fields = fields_for(keep_text=keep_text)
    guess = guess_mapping(header, fields)
    initial = {k: v for k, v in (mapping or guess).items() if v in header}
    chosen = dict(priority_map or {})
    values: list[dict[str, Any]] = []
    more = 0
    column = initial.get("priority")
    if column and read_values:
        found, distinct = priority_values(path, column)
        more = distinct - len(found)
        for raw, count in found:
            start = (chosen[raw] or NO_PRIORITY) if raw in chosen else guess_priority(raw)
            values.append(
                {"raw": raw, "count": count, "initial": start, "builtin": builtin_priority(raw)}
            )
    return {
        "header": header,
        "initial": initial,
        "applied": bool(mapping),
        "guess_adds": sorted(set(guess) - set(default_mapping(header, fields))),
        "priority_column": column,
        "priority_values": values,
        "more_values": more,
    }


def batch_mapping(
    mapping: Mapping[str, str], priority_map: Mapping[str, str | None]
) -> dict[str, Any]:
    """What ``ImportBatch.mapping`` records: canonical name -> file column, and the priority
    values mapped by hand (``priority_values``: raw -> P1..P4 or null) when there are any."""
    record: dict[str, Any] = dict(mapping)
    if priority_map:
        record["priority_values"] = dict(priority_map)
    return record
