"""What every reader shares: opening a source once, finding columns, parsing instants and
priorities with vectorized Polars expressions, and checking the canonical frames."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from tandem.analytics.frames import HOLDS, TICKETS, UTC_INSTANT
from tandem.ingest.errors import IngestError, Problems

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


# --- Sources ----------------------------------------------------------------------------


@dataclass
class Opened:
    """A source opened once: a path Polars scans itself, or the bytes of a stream."""

    name: str
    path: Path | None
    data: bytes | None
    head: bytes  # the first SNIFF_BYTES

    def scan_target(self) -> Path | io.BytesIO:
        if self.path is not None:
            return self.path
        assert self.data is not None
        return io.BytesIO(self.data)


def open_source(source: Source, file_name: str | None) -> Opened:
    """Open ``source`` without reading a path into memory; a stream is read exactly once."""
    if isinstance(source, str | Path):
        path = Path(source)
        name = file_name or path.name
        if not path.is_file():
            raise IngestError(Problems(name).fail(None, None, "file not found").problems)
        with path.open("rb") as f:
            head = f.read(SNIFF_BYTES)
        return Opened(name, path, None, head)
    data = source.read()
    name = file_name or str(getattr(source, "name", "") or "upload")
    return Opened(Path(name).name, None, data, data[:SNIFF_BYTES])


def check_size(path: Path, limit_bytes: int, *, file_name: str | None = None) -> None:
    """Refuse a file larger than ``limit_bytes`` before anything reads it.

    Call it before a reader on uploads: the readers themselves stream what they can (Polars
    scans only the columns they need), but a 12 GB export should be refused up front.
    """
    size = Path(path).stat().st_size
    if size > limit_bytes:
        name = file_name or Path(path).name
        reason = (
            f"file is {size:,} bytes, over the limit of {limit_bytes:,} bytes; "
            "split the export (for example by month) and import the parts"
        )
        raise IngestError(Problems(name).fail(None, None, reason).problems)


def is_xlsx(head: bytes) -> bool:
    return head[:4] == b"PK\x03\x04"


def check_text(opened: Opened, problems: Problems) -> str:
    """The decoded head of a CSV file; raises on an empty file or binary junk."""
    head = opened.head
    if not head:
        raise problems.fail(None, None, "the file is empty (0 bytes)")
    if is_xlsx(head):
        raise problems.fail(None, None, "this is an XLSX workbook, not a CSV file")
    if b"\x00" in head:
        raise problems.fail(None, None, "not a text file (binary data: NUL bytes)")
    cut = head if len(head) < SNIFF_BYTES else head[:-4]
    try:
        text = cut.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        try:  # the cut may split a character: retry without the tail
            text = cut[: e.start].decode("utf-8-sig") if e.start > len(cut) - 4 else ""
        except UnicodeDecodeError:
            text = ""
        if not text:
            reason = f"not UTF-8 text (byte {e.start}): export the file as UTF-8 CSV"
            raise problems.fail(None, None, reason) from None
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text[:4096])
    if printable < 0.95 * min(len(text), 4096):
        raise problems.fail(None, None, "not a text file (binary data)")
    return text


def csv_header(text: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        return []


def norm(name: str) -> str:
    """Column names compare without case, spaces, underscores or punctuation."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def resolve_columns(
    header: Sequence[str],
    aliases: Mapping[str, Sequence[str]],
    mapping: Mapping[str, str] | None,
) -> dict[str, str]:
    """Canonical name -> the file's column, for the canonical names found in ``header``.

    ``mapping`` (canonical -> file column) wins over the aliases.
    """
    by_norm: dict[str, str] = {}
    for h in header:
        by_norm.setdefault(norm(h), h)
    found: dict[str, str] = {}
    for canonical, names in aliases.items():
        for n in (canonical, *names):
            if norm(n) in by_norm:
                found[canonical] = by_norm[norm(n)]
                break
    for canonical, column in (mapping or {}).items():
        if column in header:
            found[canonical] = column
        elif norm(column) in by_norm:
            found[canonical] = by_norm[norm(column)]
        else:
            found[canonical] = column  # reported as missing by require()
    return found


def require(
    columns: dict[str, str],
    required: Iterable[tuple[str, str]],
    header: Sequence[str],
    problems: Problems,
    expected_format: str,
) -> None:
    """Report each required column (canonical, label) that is not in the file."""
    from tandem.ingest.detect import guess_from_header  # circular at import time

    missing = [
        (canonical, columns.get(canonical, label))
        for canonical, label in required
        if columns.get(canonical) not in header
    ]
    if not missing:
        return
    guess = guess_from_header(header)
    hint = ""
    if guess is not None and guess != expected_format and expected_format != "holds":
        hint = f"; this looks like a {FORMAT_NAMES[guess]} export (format '{guess}')"
    elif not header or len(header) == 1:
        hint = "; is this a comma-separated file?"
    for _, label in missing:
        problems.add(1, label, f"column '{label}' not found{hint}")
    problems.raise_if_any()


FORMAT_NAMES = {
    "generic": "generic CSV",
    "servicenow": "ServiceNow list",
    "servicenow-events": "ServiceNow event-log",
    "jira": "Jira Service Management",
    "glpi": "GLPI",
}


def scan_csv(opened: Opened, columns: Mapping[str, str], problems: Problems) -> pl.DataFrame:
    """Read only ``columns`` (canonical -> file column) as strings, renamed to canonical,
    with missing-value cells as nulls and a ``_row`` column (header = row 1)."""
    try:
        lf = pl.scan_csv(
            opened.scan_target(),
            infer_schema=False,
            glob=False,
            encoding="utf8-lossy",
            raise_if_empty=False,
        )
        df = (
            lf.select([pl.col(col).alias(canonical) for canonical, col in columns.items()])
            .with_row_index(ROW, offset=2)
            .collect()
        )
    except pl.exceptions.PolarsError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise problems.fail(None, None, f"not a readable CSV file: {first}") from None
    return clean_strings(df)


def clean_strings(df: pl.DataFrame) -> pl.DataFrame:
    text = [c for c, t in df.schema.items() if t == pl.String]
    return df.with_columns(
        pl.when(pl.col(c).str.strip_chars().is_in(MISSING))
        .then(None)
        .otherwise(pl.col(c).str.strip_chars())
        .alias(c)
        for c in text
    )


def check_not_empty(df: pl.DataFrame, problems: Problems) -> None:
    if df.height == 0:
        raise problems.fail(None, None, "the file has a header but no data rows")


# --- Instants ---------------------------------------------------------------------------

_MONTHS = {
    m: f"{i:02d}"
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_TIME = r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
_TZ = r"(?:\s*(?P<tz>[Zz]|UTC|[+-]\d{2}(?::?\d{2})?))?"


@dataclass(frozen=True)
class DateFormat:
    """A timestamp shape: a label people recognise and a regex with named groups
    ``y``, ``mo`` (number or month name), ``d``, ``H``, ``M``, optional ``S``, ``ap``, ``tz``."""

    label: str
    regex: str


def _fmt(label: str, date: str, time: str = _TIME, tz: str = _TZ) -> DateFormat:
    return DateFormat(label, rf"^{date}[T ]\s*{time}{tz}$")


ISO = _fmt("yyyy-MM-dd HH:mm:ss", r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})")
#: The generic CSV's: the same shape, named for what people know it as.
ISO_8601 = DateFormat("ISO 8601, e.g. 2025-03-01T09:00:00Z", ISO.regex)
#: Display formats a ServiceNow instance may use, by the label of its date format setting.
DATE_FORMATS: dict[str, DateFormat] = {
    "yyyy-MM-dd HH:mm:ss": ISO,
    "dd-MM-yyyy HH:mm:ss": _fmt(
        "dd-MM-yyyy HH:mm:ss", r"(?P<d>\d{1,2})-(?P<mo>\d{1,2})-(?P<y>\d{4})"
    ),
    "MM-dd-yyyy HH:mm:ss": _fmt(
        "MM-dd-yyyy HH:mm:ss", r"(?P<mo>\d{1,2})-(?P<d>\d{1,2})-(?P<y>\d{4})"
    ),
    "dd/MM/yyyy HH:mm:ss": _fmt(
        "dd/MM/yyyy HH:mm:ss", r"(?P<d>\d{1,2})/(?P<mo>\d{1,2})/(?P<y>\d{4})"
    ),
    "MM/dd/yyyy HH:mm:ss": _fmt(
        "MM/dd/yyyy HH:mm:ss", r"(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    ),
    "dd.MM.yyyy HH:mm:ss": _fmt(
        "dd.MM.yyyy HH:mm:ss", r"(?P<d>\d{1,2})\.(?P<mo>\d{1,2})\.(?P<y>\d{4})"
    ),
}
#: Jira's CSV export: ``12/Mar/24 3:04 PM`` (also with a four-digit year or 24-hour time).
JIRA = _fmt(
    "dd/MMM/yy h:mm a",
    r"(?P<d>\d{1,2})/(?P<mo>[A-Za-z]{3})/(?P<y>\d{2}|\d{4})",
    time=r"(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\s*(?P<ap>[AaPp][Mm]))?",
)

#: Pairs of formats that differ only in day/month order, by the separator they share.
_DAY_MONTH = {"-": ("dd-MM-yyyy HH:mm:ss", "MM-dd-yyyy HH:mm:ss"),
              "/": ("dd/MM/yyyy HH:mm:ss", "MM/dd/yyyy HH:mm:ss"),
              ".": ("dd.MM.yyyy HH:mm:ss", "dd.MM.yyyy HH:mm:ss")}  # fmt: skip


def detect_date_format(
    values: pl.Series, problems: Problems, option: str = "date_format"
) -> DateFormat:
    """The one display format that reads every value in ``values`` (non-null strings).

    Year-first values are ISO. For ``a-b-yyyy`` / ``a/b/yyyy`` the order of day and month is
    settled by a value whose first part is over 12 (day first) or second part is (month
    first); a file where no value decides is refused, and so is one where values disagree.
    """
    sample = values.drop_nulls().unique()
    if sample.len() == 0:
        return ISO
    parts = sample.str.extract_groups(
        r"^\s*(?P<a>\d{1,4})(?P<s1>[-/.])(?P<b>\d{1,2})(?P<s2>[-/.])(?P<c>\d{1,4})[ T]"
    ).struct.unnest()
    shaped = parts.drop_nulls()
    if shaped.height == 0:
        return ISO  # nothing numeric: let the parser report the values
    year_first = shaped.filter(pl.col("a").str.len_chars() == 4)
    other = shaped.filter(pl.col("a").str.len_chars() <= 2)
    if year_first.height and not other.height:
        return ISO
    if year_first.height and other.height:
        example = other["a"][0] + other["s1"][0] + other["b"][0] + other["s2"][0] + other["c"][0]
        raise problems.fail(
            None,
            None,
            f"timestamps mix year-first and year-last dates (e.g. '{example}'); "
            f"pass {option}= to say which format the file uses",
        )
    seps = set(other["s1"].to_list())
    if len(seps) > 1:
        raise problems.fail(None, None, f"timestamps mix date separators {sorted(seps)}")
    sep = seps.pop()
    day_first, month_first = _DAY_MONTH[sep]
    if sep == ".":
        return DATE_FORMATS[day_first]
    a = other["a"].cast(pl.Int32)
    b = other["b"].cast(pl.Int32)
    says_day_first = bool((a > 12).any())
    says_month_first = bool((b > 12).any())
    if says_day_first and says_month_first:
        raise problems.fail(
            None,
            None,
            "timestamps disagree on the order of day and month (some have a first part over "
            f"12, others a second part over 12); pass {option}= with the file's format",
        )
    if says_day_first:
        return DATE_FORMATS[day_first]
    if says_month_first:
        return DATE_FORMATS[month_first]
    raise problems.fail(
        None,
        None,
        f"the date format is ambiguous: no date in the file has a day over 12, so "
        f"'{day_first}' and '{month_first}' read it differently; pass "
        f"{option}='{day_first}' or {option}='{month_first}'",
    )


def date_format_option(label: str, problems: Problems) -> DateFormat:
    if label in DATE_FORMATS:
        return DATE_FORMATS[label]
    known = ", ".join(f"'{k}'" for k in DATE_FORMATS)
    raise problems.fail(None, None, f"unknown date_format '{label}'; use one of {known}")


def check_timezone(timezone: str, problems: Problems) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise problems.fail(None, None, f"unknown time zone '{timezone}'") from None


def _instant_exprs(raw: str, fmt: DateFormat, timezone: str) -> dict[str, pl.Expr]:
    """Expressions for one raw string column: ``matched``, ``local`` (naive, null when the
    date is invalid), ``utc`` (the instant, whole seconds), ``gap`` (naive time that does not
    exist in ``timezone``), ``ambiguous`` (naive time that occurs twice)."""
    g = pl.col(raw).str.extract_groups(fmt.regex)
    year = g.struct.field("y")
    year = pl.when(year.str.len_chars() == 2).then(pl.lit("20") + year).otherwise(year)
    month = g.struct.field("mo")
    if "[A-Za-z]" in fmt.regex:
        month = month.str.to_lowercase().replace_strict(_MONTHS, default=None)
    hour = g.struct.field("H").cast(pl.Int32)
    if "(?P<ap>" in fmt.regex:
        ap = g.struct.field("ap").str.to_lowercase()
        hour = (
            pl.when(ap.is_null())
            .then(hour)
            .when(hour > 12)
            .then(None)  # "13:00 PM" is not a time
            .when(ap == "pm")
            .then(hour % 12 + 12)
            .otherwise(hour % 12)
        )
    text = pl.format(
        "{}-{}-{} {}:{}:{}",
        year,
        month.str.zfill(2),
        g.struct.field("d").str.zfill(2),
        hour.cast(pl.String).str.zfill(2),
        g.struct.field("M"),
        g.struct.field("S").fill_null("00"),
    )
    local = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    tz = g.struct.field("tz")
    tz_digits = tz.str.replace_all(":", "")
    sign = pl.when(tz_digits.str.starts_with("-")).then(-1).otherwise(1)
    offset_min = (
        pl.when(tz.str.to_uppercase().is_in(["Z", "UTC"]))
        .then(0)
        .otherwise(
            sign
            * (
                tz_digits.str.slice(1, 2).cast(pl.Int64, strict=False) * 60
                + tz_digits.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
            )
        )
    )
    aware = local.dt.replace_time_zone("UTC") - pl.duration(minutes=offset_min)
    if timezone == "UTC":
        naive = local.dt.replace_time_zone("UTC")
        gap = pl.lit(False)
        ambiguous = pl.lit(False)
    else:
        early = local.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        late = local.dt.replace_time_zone(timezone, ambiguous="latest", non_existent="null")
        naive = early.dt.convert_time_zone("UTC")
        gap = tz.is_null() & local.is_not_null() & early.is_null()
        ambiguous = tz.is_null() & (early != late).fill_null(False)
    utc = pl.when(tz.is_null()).then(naive).otherwise(aware).dt.truncate("1s").cast(UTC_INSTANT)
    return {
        "matched": g.struct.field("H").is_not_null(),
        "local": local,
        "utc": utc,
        "gap": gap,
        "ambiguous": ambiguous,
    }


def parse_instants(
    df: pl.DataFrame,
    canonical: Sequence[str],
    fmt: DateFormat,
    timezone: str,
    problems: Problems,
    warnings: list[str],
    labels: Mapping[str, str],
) -> pl.DataFrame:
    """Replace each of the ``canonical`` string columns of ``df`` by UTC instants.

    Values without an offset are wall-clock times in ``timezone``. A time that occurs twice
    (the hour repeated when clocks fall back) is read as the first occurrence, with a
    warning; one that does not exist (skipped when clocks spring forward) is a problem.
    """
    present = [c for c in canonical if c in df.columns]
    checks = []
    outs = []
    for c in present:
        e = _instant_exprs(c, fmt, timezone)
        outs.append(e["utc"].alias(c))
        checks += [
            (pl.col(c).is_not_null() & ~e["matched"]).alias(f"{c}__nomatch"),
            (e["matched"] & e["local"].is_null()).alias(f"{c}__invalid"),
            e["gap"].alias(f"{c}__gap"),
            e["ambiguous"].alias(f"{c}__amb"),
        ]
    flags = df.select(ROW, *present, *checks)
    for c in present:
        label = labels.get(c, c)
        bad = flags.filter(pl.col(f"{c}__nomatch")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(row, label, f"cannot read '{value}' as a timestamp ({fmt.label})")
        bad = flags.filter(pl.col(f"{c}__invalid")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(row, label, f"'{value}' is not a valid date and time")
        bad = flags.filter(pl.col(f"{c}__gap")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(
                row,
                label,
                f"'{value}' does not exist in {timezone} (the clocks skip that hour)",
            )
        n_amb = int(flags[f"{c}__amb"].sum())
        if n_amb:
            first = flags.filter(pl.col(f"{c}__amb"))[ROW][0]
            warnings.append(
                f"{label}: {n_amb} time(s) occur twice in {timezone} when clocks fall back "
                f"(first on row {first}); read as the first occurrence"
            )
    return df.with_columns(outs)


# --- Priorities, counts, kinds ----------------------------------------------------------


def pkey(expr: pl.Expr) -> pl.Expr:
    """The lookup key of a raw priority: lower case, single spaces."""
    return expr.str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def map_priority(
    df: pl.DataFrame,
    table: Mapping[str, str | None],
    problems: Problems,
    warnings: list[str],
    label: str,
    hint: str,
) -> pl.DataFrame:
    """Set ``priority`` (P1..P4 or null) from ``priority_raw`` through ``table`` (keys as
    :func:`pkey` makes them). Values mapped to None give a warning; unknown ones a problem."""
    if "priority_raw" not in df.columns:
        return df.with_columns(
            pl.lit(None, pl.String).alias("priority_raw"), pl.lit(None, pl.String).alias("priority")
        )
    known = pl.Series(list(table.keys()), dtype=pl.String).implode()
    key = pkey(pl.col("priority_raw"))
    mapped = key.replace_strict(dict(table), default=None, return_dtype=pl.String)
    df = df.with_columns(
        mapped.alias("priority"),
        (pl.col("priority_raw").is_not_null() & ~key.is_in(known)).alias("__unknown"),
    )
    bad = df.filter(pl.col("__unknown")).head(problems.room)
    for row, value in bad.select(ROW, "priority_raw").iter_rows():
        problems.add(row, label, f"unknown priority '{value}' ({hint})")
    unmapped = (
        df.filter(pl.col("priority_raw").is_not_null() & pl.col("priority").is_null())
        .filter(~pl.col("__unknown"))
        .group_by("priority_raw")
        .agg(pl.len(), pl.col(ROW).min())
        .sort(ROW)
    )
    for value, n, row in unmapped.iter_rows():
        warnings.append(
            f"{label}: {n} ticket(s) have priority '{value}' (first on row {row}), which is "
            "none of P1-P4: their priority is left empty and no priority target applies"
        )
    return df.drop("__unknown")


def user_priority_table(
    table: Mapping[str, str | None], priority_map: Mapping[str, str | None] | None
) -> dict[str, str | None]:
    out = dict(table)
    for raw, p in (priority_map or {}).items():
        out[_pkey_py(raw)] = p
    return out


def _pkey_py(raw: str) -> str:
    return re.sub(r"\s+", " ", raw.lower()).strip()


def parse_counts(
    df: pl.DataFrame, names: Sequence[str], problems: Problems, labels: Mapping[str, str]
) -> pl.DataFrame:
    """Whole numbers; thousands separators in any place are ignored (``"1,024"``)."""
    outs = []
    for c in names:
        if c not in df.columns:
            continue
        value = pl.col(c).str.replace_all(r"[,\s']", "").cast(pl.Int32, strict=False)
        bad = df.filter(pl.col(c).is_not_null() & value.is_null()).head(problems.room)
        for row, raw in bad.select(ROW, c).iter_rows():
            problems.add(row, labels.get(c, c), f"'{raw}' is not a whole number")
        outs.append(value.alias(c))
    return df.with_columns(outs)


# --- The canonical frames ---------------------------------------------------------------


def finish_tickets(
    df: pl.DataFrame,
    problems: Problems,
    labels: Mapping[str, str],
    *,
    keep_text: bool,
    check_duplicates: bool = True,
) -> pl.DataFrame:
    """Check the parsed rows and return them as the canonical TICKETS frame.

    Problems: missing ticket id or opened_at, any other instant before opened_at,
    duplicate ticket ids. Raises when any problem was found here or before.
    """

    def lab(c: str) -> str:
        return labels.get(c, c)

    for c in TICKETS:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None).cast(TICKETS[c]).alias(c))
    for c, what in (("ticket_id", "ticket id"), ("opened_at", "opened time")):
        missing = df.filter(pl.col(f"{c}__missing"))
        for (row,) in missing.select(ROW).head(problems.room).iter_rows():
            problems.add(row, lab(c), f"the {what} is missing")
    for c in ("responded_at", "resolved_at", "closed_at"):
        early = df.filter(pl.col(c) < pl.col("opened_at")).head(problems.room)
        for row, at, opened in early.select(ROW, c, "opened_at").iter_rows():
            problems.add(
                row,
                lab(c),
                f"{c.removesuffix('_at')} at {at:%Y-%m-%d %H:%M:%S} UTC is before opened at "
                f"{opened:%Y-%m-%d %H:%M:%S} UTC",
            )
    if check_duplicates:
        dup = (
            df.filter(pl.col("ticket_id").is_not_null())
            .with_columns(pl.col(ROW).min().over("ticket_id").alias("__first"))
            .filter(pl.col(ROW) != pl.col("__first"))
            .head(problems.room)
        )
        for row, tid, first in dup.select(ROW, "ticket_id", "__first").iter_rows():
            problems.add(
                row, lab("ticket_id"), f"duplicate ticket id '{tid}' (first on row {first})"
            )
    problems.raise_if_any()
    cols = [pl.col(c).cast(t) for c, t in TICKETS.items()]
    if keep_text:
        if "short_description" not in df.columns:
            df = df.with_columns(pl.lit(None, pl.String).alias("short_description"))
        cols.append(pl.col("short_description").cast(pl.String))
    return df.select(cols)


REQUIRED = ("ticket_id", "opened_at")


def mark_missing(df: pl.DataFrame) -> pl.DataFrame:
    """Remember which required cells are empty in the file, before parsing turns unreadable
    values into nulls too (those are reported by the parser, not again as missing)."""
    return df.with_columns(
        (pl.col(c).is_null() if c in df.columns else pl.lit(True)).alias(f"{c}__missing")
        for c in REQUIRED
    )


def check_holds(
    holds: pl.DataFrame,
    tickets: pl.DataFrame | None,
    problems: Problems,
    labels: Mapping[str, str],
) -> None:
    """Holds that end before they start, belong to no ticket in the file, start before
    their ticket opened or end after it was resolved are problems. ``holds`` has ``_row``."""

    def lab(c: str) -> str:
        return labels.get(c, c)

    bad = holds.filter(pl.col("end") < pl.col("start")).head(problems.room)
    for row, s, e in bad.select(ROW, "start", "end").iter_rows():
        problems.add(
            row,
            lab("end"),
            f"hold ends at {e:%Y-%m-%d %H:%M:%S} UTC, before it starts ({s:%Y-%m-%d %H:%M:%S} UTC)",
        )
    if tickets is None:
        return
    j = holds.join(
        tickets.select("ticket_id", "opened_at", "resolved_at", pl.lit(True).alias("__known")),
        on="ticket_id",
        how="left",
    )
    for row, tid in (
        j.filter(pl.col("__known").is_null())
        .select(ROW, "ticket_id")
        .head(problems.room)
        .iter_rows()
    ):
        problems.add(
            row, lab("ticket_id"), f"hold for ticket '{tid}', which is not among the tickets"
        )
    before = j.filter(pl.col("start") < pl.col("opened_at")).head(problems.room)
    for row, s, o in before.select(ROW, "start", "opened_at").iter_rows():
        problems.add(
            row,
            lab("start"),
            f"hold starts at {s:%Y-%m-%d %H:%M:%S} UTC, before its ticket opened "
            f"({o:%Y-%m-%d %H:%M:%S} UTC)",
        )
    after = j.filter(
        pl.col("resolved_at").is_not_null()
        & (pl.col("end").is_null() | (pl.col("end") > pl.col("resolved_at")))
    ).head(problems.room)
    for row, e, r in after.select(ROW, "end", "resolved_at").iter_rows():
        when = "is still open" if e is None else f"ends at {e:%Y-%m-%d %H:%M:%S} UTC"
        problems.add(
            row,
            lab("end"),
            f"hold {when}, after its ticket was resolved ({r:%Y-%m-%d %H:%M:%S} UTC)",
        )


def finish_holds(holds: pl.DataFrame) -> pl.DataFrame:
    return holds.select(pl.col(c).cast(t) for c, t in HOLDS.items())


def empty_holds() -> pl.DataFrame:
    return pl.DataFrame(schema=HOLDS)
