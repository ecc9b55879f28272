"""Date formats a person can choose, and what to say when a file's timestamps do not read.

A reader parses timestamps with one format (``DateFormat``: ISO 8601 for the generic CSV,
detected for ServiceNow, ...). When some values do not read, :func:`explain_dates` says
which, and what would: it tries the fixed list :data:`CANDIDATES` of common formats on the
file's timestamp columns and adds, for each column with unreadable values, one problem
naming the column and its first bad rows (up to :data:`SHOWN_ROWS`, with their values),
followed by the formats that read every timestamp of the file. When several formats read
everything but disagree (day first or month first, and no day is over 12), it says the
dates are ambiguous and asks for a format rather than guessing. The same findings go to
``Problems.dates`` (:class:`tandem.ingest.errors.DateHint`) for a caller offering a choice.

The choice itself is a string (:func:`parse_date_format`): the name of a candidate
(``"dd/mm/yyyy"``), a ServiceNow display format (``"dd/MM/yyyy HH:mm:ss"``), or a
``strftime`` pattern (``"%d/%m/%Y %H:%M"``) of the directives in :data:`DIRECTIVES`.

Pure: no Django. Only the failure path tries the candidates (a sample first, the whole
columns only for the formats the sample leaves in), so reading a good file costs nothing.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from tandem.ingest._common.base import ROW
from tandem.ingest._common.instants import (
    _TIME,
    _TZ,
    DATE_FORMATS,
    ISO,
    JIRA,
    DateFormat,
    detect_date_format,
    local_times,
)
from tandem.ingest.errors import DateHint, IngestError, Problems

#: Bad rows named in a column's problem.
SHOWN_ROWS = 5
#: Values of each column every candidate is tried on first; only the candidates that read
#: some of them are tried on the whole column.
SAMPLE = 2_000
#: The longest ``strftime`` pattern accepted.
MAX_PATTERN = 64

_AMPM = r"(?:\s*(?P<ap>[AaPp][Mm]))?"


@dataclass(frozen=True)
class Candidate:
    """A common timestamp format: ``name`` (what a person chooses, e.g. ``dd/mm/yyyy``),
    ``example``, the regex it reads with (``fmt``), and ``spellings``: the ``strftime``
    patterns whose output it reads (seconds, fractions, AM/PM or an offset optional)."""

    name: str
    example: str
    fmt: DateFormat
    spellings: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.name} (e.g. {self.example})"


def _candidate(
    name: str, example: str, date: str, spellings: tuple[str, ...], *, ampm: bool = False
) -> Candidate:
    time = _TIME + (_AMPM if ampm else "")
    return Candidate(name, example, DateFormat(name, rf"^{date}[T ]\s*{time}{_TZ}$"), spellings)


def _with_ampm(date: str) -> tuple[str, ...]:
    return (
        f"{date} %H:%M",
        f"{date} %H:%M:%S",
        f"{date} %I:%M %p",
        f"{date} %I:%M:%S %p",
    )


#: The formats tried on a file whose timestamps do not read, most common first.
CANDIDATES: tuple[Candidate, ...] = (
    Candidate(
        "iso",
        "2024-03-05 14:30 or 2024-03-05T14:30:00Z",
        DateFormat("iso (yyyy-mm-dd HH:MM[:SS][offset])", ISO.regex),
        (
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%dT%H:%M:%SZ",
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%d %H:%M:%S.%f",
        ),
    ),
    _candidate(
        "dd/mm/yyyy",
        "05/03/2024 14:30 for 5 March",
        r"(?P<d>\d{1,2})/(?P<mo>\d{1,2})/(?P<y>\d{4})",
        _with_ampm("%d/%m/%Y"),
        ampm=True,
    ),
    _candidate(
        "mm/dd/yyyy",
        "03/05/2024 2:30 PM for 5 March",
        r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})",
        _with_ampm("%m/%d/%Y"),
        ampm=True,
    ),
    _candidate(
        "yyyy/mm/dd",
        "2024/03/05 14:30",
        r"(?P<y>\d{4})/(?P<mo>\d{1,2})/(?P<d>\d{1,2})",
        ("%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S"),
    ),
    _candidate(
        "dd.mm.yyyy",
        "05.03.2024 14:30",
        r"(?P<d>\d{1,2})\.(?P<mo>\d{1,2})\.(?P<y>\d{4})",
        ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S"),
    ),
    _candidate(
        "dd-mm-yyyy",
        "05-03-2024 14:30",
        r"(?P<d>\d{1,2})-(?P<mo>\d{1,2})-(?P<y>\d{4})",
        _with_ampm("%d-%m-%Y"),
        ampm=True,
    ),
    _candidate(
        "mm-dd-yyyy",
        "03-05-2024 14:30",
        r"(?P<mo>\d{1,2})-(?P<d>\d{1,2})-(?P<y>\d{4})",
        _with_ampm("%m-%d-%Y"),
        ampm=True,
    ),
    _candidate(
        "dd-mon-yyyy",
        "05-Mar-2024 14:30",
        r"(?P<d>\d{1,2})-(?P<mo>[A-Za-z]{3})-(?P<y>\d{4})",
        ("%d-%b-%Y %H:%M", "%d-%b-%Y %H:%M:%S"),
    ),
    Candidate(
        "dd/mon/yy",
        "05/Mar/24 2:30 PM, as Jira writes",
        DateFormat("dd/mon/yy (Jira)", JIRA.regex),
        ("%d/%b/%y %I:%M %p", "%d/%b/%Y %H:%M", "%d/%b/%y %H:%M"),
    ),
)
NAMED: dict[str, Candidate] = {c.name: c for c in CANDIDATES}

#: The ``strftime`` directives a pattern may use, with what each reads.
DIRECTIVES: dict[str, tuple[str, str]] = {
    "Y": (r"(?P<y>\d{4})", "year, 4 digits"),
    "y": (r"(?P<y>\d{2})", "year, 2 digits"),
    "m": (r"(?P<mo>\d{1,2})", "month number"),
    "b": (r"(?P<mo>[A-Za-z]{3})", "month name, 3 letters"),
    "d": (r"(?P<d>\d{1,2})", "day"),
    "H": (r"(?P<H>\d{1,2})", "hour 0-23"),
    "I": (r"(?P<H>\d{1,2})", "hour 1-12"),
    "M": (r"(?P<M>\d{1,2})", "minute"),
    "S": (r"(?P<S>\d{1,2})", "second"),
    "f": (r"\d{1,6}", "fraction of a second"),
    "p": (r"(?P<ap>[AaPp][Mm])", "AM or PM"),
    "z": (r"(?P<tz>[Zz]|[+-]\d{2}:?\d{2})", "UTC offset, e.g. +0100, -05:00 or Z"),
}
#: What a pattern must say, one of each group.
_REQUIRED = (("Y", "y"), ("m", "b"), ("d",), ("H", "I"), ("M",))
_SAME_FIELD = {"Y": "y", "y": "Y", "m": "b", "b": "m", "H": "I", "I": "H"}


class DateFormatError(ValueError):
    """A date format option that names no format and is no usable pattern."""


def choice_names() -> str:
    return ", ".join(c.name for c in CANDIDATES)


def chosen_format(option: str | None, problems: Problems) -> DateFormat | None:
    """A reader's ``date_format`` option: None (or ``""``, ``"auto"``) for the reader's
    own; a bad one is a file-level problem naming the option."""
    if option is None or option.strip().lower() in ("", "auto"):
        return None
    try:
        return parse_date_format(option)
    except DateFormatError as e:
        raise problems.fail(None, None, f"date_format: {e}") from None


def detect_or_explain(
    df: pl.DataFrame,
    columns: Sequence[str],
    labels: Mapping[str, str],
    problems: Problems,
) -> DateFormat:
    """The format of day-first or month-first exports (``detect_date_format``); when it
    cannot tell, the problems say which rows and columns, and which formats would read them."""
    present = [c for c in columns if c in df.columns]
    values = (
        pl.concat([df[c] for c in present])
        if df.height and present
        else pl.Series([], dtype=pl.String)
    )
    try:
        return detect_date_format(values, Problems(problems.file))
    except IngestError:
        pass
    hint = explain_dates(df, present, labels, problems)
    if hint.readable and not hint.ambiguous:
        return NAMED[hint.readable[0]].fmt
    if not problems:  # nothing named a row: say so for the file
        problems.add(None, None, "cannot tell the date format of the file's timestamps")
    raise problems.error()


def parse_date_format(option: str) -> DateFormat:
    """The format ``option`` names: a candidate's name, a ServiceNow display format, or a
    ``strftime`` pattern. ``DateFormatError`` says what is wrong with anything else."""
    text = option.strip()
    if not text:
        raise DateFormatError("the date format is empty")
    if text.lower() in NAMED:
        return NAMED[text.lower()].fmt
    if text in DATE_FORMATS:
        return DATE_FORMATS[text]
    if "%" in text:
        return pattern_format(text)
    shown = text if len(text) <= 40 else text[:40] + "..."
    raise DateFormatError(
        f"unknown date format '{shown}': use one of {choice_names()}, or a strftime pattern "
        "such as %d/%m/%Y %H:%M"
    )


def pattern_format(pattern: str) -> DateFormat:
    """A ``strftime`` pattern (:data:`DIRECTIVES`; ``%%`` is a percent sign; a space reads
    any run of spaces) as a :class:`DateFormat`; ``DateFormatError`` when it cannot be one."""
    if len(pattern) > MAX_PATTERN:
        raise DateFormatError(
            f"the pattern is {len(pattern):,} characters long, over the limit of {MAX_PATTERN}"
        )
    parts: list[str] = []
    seen: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char != "%":
            parts.append(r"\s+" if char.isspace() else re.escape(char))
            i += 1
            continue
        if i + 1 == len(pattern):
            raise DateFormatError("the pattern ends with a lone '%' (write %% for a percent sign)")
        code = pattern[i + 1]
        i += 2
        if code == "%":
            parts.append("%")
            continue
        if code not in DIRECTIVES:
            known = " ".join(f"%{k}" for k in DIRECTIVES)
            raise DateFormatError(
                f"'%{code}' is not a directive Tandem reads in dates; use {known} (and %% "
                "for a percent sign)"
            )
        if code in seen or _SAME_FIELD.get(code) in seen:
            raise DateFormatError(f"the pattern gives the {DIRECTIVES[code][1]} twice")
        seen.append(code)
        parts.append(DIRECTIVES[code][0])
    missing = [group for group in _REQUIRED if not any(code in seen for code in group)]
    if missing:
        wanted = ", ".join(" or ".join(f"%{c}" for c in group) for group in missing)
        raise DateFormatError(
            f"the pattern needs a year, month, day, hour and minute: it lacks {wanted}"
        )
    if ("I" in seen) != ("p" in seen):
        raise DateFormatError("%I (hour 1-12) and %p (AM/PM) go together: use both or %H")
    if "f" in seen and "S" not in seen:
        raise DateFormatError("%f (fraction of a second) needs %S before it")
    return DateFormat(f"pattern {pattern}", "^" + "".join(parts) + "$")


#: ``--date-format``'s help (``%`` doubled for argparse).
DATE_FORMAT_HELP = (
    "how the file writes its timestamps, when the reader cannot tell: "
    + ", ".join(c.name for c in CANDIDATES)
    + ", or a strftime pattern such as '%%d/%%m/%%Y %%H:%%M' (default: detected)"
)


def date_format_argument(value: str) -> str:
    """``--date-format`` on a command line (argparse ``type=``): checked, returned as is."""
    try:
        parse_date_format(value)
    except DateFormatError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


# Explaining a file's timestamps ----------------------------------------------------------


@dataclass(frozen=True)
class _Read:
    """One format's reading of every timestamp column: per column, the local times (null
    where a value is null or unreadable) and how many non-null values it read."""

    name: str
    fmt: DateFormat
    local: dict[str, pl.Series]
    read: dict[str, int]


def _read(name: str, fmt: DateFormat, columns: Mapping[str, pl.Series]) -> _Read:
    local = {c: local_times(values, fmt) for c, values in columns.items()}
    read = {c: int(local[c].is_not_null().sum()) for c in columns}
    return _Read(name, fmt, local, read)


def _readings(columns: Mapping[str, pl.Series]) -> list[_Read]:
    """The candidates' readings of the whole columns, for those that read something of a
    sample (every value they read in the sample, or at least some)."""
    sample = {c: v.drop_nulls().head(SAMPLE) for c, v in columns.items()}
    kept = []
    for candidate in CANDIDATES:
        tried = _read(candidate.name, candidate.fmt, sample)
        if any(tried.read.values()):
            kept.append(_read(candidate.name, candidate.fmt, columns))
    return kept


def explain_dates(
    df: pl.DataFrame,
    columns: Sequence[str],
    labels: Mapping[str, str],
    problems: Problems,
    tried: DateFormat | None = None,
    *,
    option: str = "date format",
) -> DateHint:
    """Say why the timestamps in ``columns`` of ``df`` (raw strings, missing values null,
    with the ``_row`` column) do not read, or read more than one way; add the problems
    (one per column concerned, naming its first bad rows) and set ``problems.dates``.

    ``tried``: the format the reader used; its unreadable values are the bad rows. None
    (a format that could not be detected): the bad rows are those the candidate reading
    the most values does not read, or, when several read everything differently, the rows
    they disagree on."""
    present = [c for c in columns if c in df.columns]
    values = {c: df.get_column(c) for c in present}
    totals = {c: int(values[c].is_not_null().sum()) for c in present}
    readings = _readings(values)
    everything = [r for r in readings if all(r.read[c] == totals[c] for c in present)]
    # formats that read everything, grouped by what they read (the same instants or not)
    groups: list[list[_Read]] = []
    for reading in everything:
        for group in groups:
            if all(_same(group[0].local[c], reading.local[c]) for c in present):
                group.append(reading)
                break
        else:
            groups.append([reading])
    ambiguous = len(groups) > 1
    names = tuple(r.name for r in everything)
    concerned: list[str] = []
    if ambiguous:
        concerned = _ambiguous(df, present, labels, problems, groups, option)
    else:
        basis = (
            _read(tried.label, tried, values)
            if tried is not None
            else max(readings, key=lambda r: sum(r.read.values()), default=None)
        )
        for c in present:
            bad = _unread(values[c], basis.local[c] if basis is not None else None)
            if not bad.any():
                continue
            concerned.append(c)
            rows = df.filter(bad).select(ROW, c)
            how = (
                f"with the file's date format ({basis.fmt.label})"
                if tried is not None and basis is not None
                else f"as '{basis.name}' like the rest of the file's dates"
                if basis is not None
                else "as a date and time in any common format"
            )
            reason = (
                f"{rows.height:,} value{'s' if rows.height != 1 else ''} cannot be read {how}: "
                f"{_shown(rows)}. {_advice(names, readings, present, totals, option)}"
            )
            problems.add_summary(int(rows[ROW][0]), labels.get(c, c), reason)
    hint = DateHint(tuple(labels.get(c, c) for c in concerned), names, ambiguous)
    problems.dates = hint
    return hint


def _same(a: pl.Series, b: pl.Series) -> bool:
    return bool(a.equals(b, check_names=False))


def _unread(values: pl.Series, local: pl.Series | None) -> pl.Series:
    if local is None:
        return values.is_not_null()
    return values.is_not_null() & local.is_null()


def _shown(rows: pl.DataFrame) -> str:
    column = rows.columns[1]
    first = rows.head(SHOWN_ROWS)
    listed = "; ".join(f"row {r} '{_clip(v)}'" for r, v in first.select(ROW, column).iter_rows())
    return listed + ("; ..." if rows.height > SHOWN_ROWS else "")


def _clip(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "..."


def _advice(
    names: tuple[str, ...],
    readings: Sequence[_Read],
    columns: Sequence[str],
    totals: Mapping[str, int],
    option: str,
) -> str:
    if len(names) == 1:
        return f"Every timestamp in the file reads as '{names[0]}': choose that {option}."
    if names:
        listed = " or ".join(f"'{n}'" for n in names)
        return (
            f"Every timestamp in the file reads as {listed} (the same dates): choose one "
            f"as {option}."
        )
    total = sum(totals.values())
    partial = sorted(readings, key=lambda r: -sum(r.read.values()))[:3]
    shares = ", ".join(f"'{r.name}' {sum(r.read.values()):,}" for r in partial)
    counted = f" (of its {total:,} timestamps, {shares})" if shares else ""
    return (
        f"No common date format reads every timestamp in the file{counted}. Fix those rows, "
        f"or give the {option} as a strftime pattern such as %d/%m/%Y %H:%M."
    )


def _ambiguous(
    df: pl.DataFrame,
    columns: Sequence[str],
    labels: Mapping[str, str],
    problems: Problems,
    groups: Sequence[Sequence[_Read]],
    option: str,
) -> list[str]:
    """One problem per column whose values the formats read differently."""
    first, second = groups[0][0], groups[1][0]
    names = " and ".join(f"'{g[0].name}'" for g in groups)
    concerned = []
    for c in columns:
        differ = (first.local[c] != second.local[c]).fill_null(False)
        if not differ.any():
            continue
        concerned.append(c)
        rows = df.filter(differ).select(ROW, c)
        a = first.local[c].filter(differ)[0]
        b = second.local[c].filter(differ)[0]
        reason = (
            f"the dates are ambiguous: {names} read every timestamp in the file, differently "
            f"({rows.height:,} value{'s' if rows.height != 1 else ''} read as different "
            f"dates: {_shown(rows)}; "
            f"the first is {a:%d %B %Y} as '{first.name}', {b:%d %B %Y} as '{second.name}'). "
            f"Choose the {option}: {names.replace(' and ', ' or ')}."
        )
        problems.add_summary(int(rows[ROW][0]), labels.get(c, c), reason)
    return concerned
