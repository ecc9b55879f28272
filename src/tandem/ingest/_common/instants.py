"""Timestamps: the export date formats, detection per file, parsing to UTC seconds."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import polars as pl

from tandem.analytics.frames import UTC_INSTANT
from tandem.ingest._common.base import ROW
from tandem.ingest._common.sources import clean_values
from tandem.ingest.errors import Problems
from tandem.ingest.validation import (
    MAX_OFFSET_MINUTES,
    offset_reason,
    out_of_years,
    years_reason,
)

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
    a = other["a"].cast(pl.Int32, strict=False)  # \d also matches non-ASCII digits
    b = other["b"].cast(pl.Int32, strict=False)
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


def check_timezone(timezone: str, problems: Problems) -> None:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise problems.fail(None, None, f"unknown time zone '{timezone}'") from None


#: The common shape of ISO values, read from their bytes instead of a regex with groups:
#: ``yyyy-MM-dd``, ``T`` or a space, ``HH:mm:ss``, then nothing (19 bytes), ``Z`` (20 bytes)
#: or ``+HH:MM``/``-HH:MM`` (25 bytes), in ASCII digits. Values of any other shape (and those
#: out of range here) take the general path.
_FAST_LENGTHS = (19, 20, 25)
_FIXED = ((4, "-"), (7, "-"), (13, ":"), (16, ":"))
_MICROS = 1_000_000


@functools.cache
def _month_starts() -> npt.NDArray[np.int32]:
    """Days from 1970-01-01 to the first of each month, January of year 0 to January of year
    10000 (proleptic Gregorian, as ``strptime`` reads dates), at ``year * 12 + month - 1``."""
    months = np.arange(-1970 * 12, (10_000 - 1970) * 12 + 1, dtype=np.int64)
    days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return days.astype(np.int32)


@dataclass(frozen=True)
class _FastRead:
    """What the fast path read, one entry per value: ``fast`` (true: of the common shape with
    a valid date and time; the rest is left to the general path), ``has_tz`` (it carries
    ``Z`` or an offset) and ``micros``: microseconds from 1970-01-01 of the instant when the
    value has an offset, of the wall-clock time when it has none (both meaningless where
    not ``fast``)."""

    fast: npt.NDArray[np.bool_]
    micros: npt.NDArray[np.int64]
    has_tz: npt.NDArray[np.bool_]

    @classmethod
    def nothing(cls, n: int) -> _FastRead:
        return cls(np.zeros(n, np.bool_), np.zeros(n, np.int64), np.zeros(n, np.bool_))

    def take(self, rows: npt.NDArray[np.intp]) -> _FastRead:
        return _FastRead(self.fast[rows], self.micros[rows], self.has_tz[rows])


#: Values read per block: the block's arrays stay small (in cache, and reused by the
#: allocator instead of fresh pages for every temporary of a million values).
_BLOCK = 1 << 16


def _fast_iso(values: pl.Series) -> _FastRead:
    """Read the values (strings) of the common ISO shape from their bytes: those of each
    length (19, 20 or 25 bytes) as a matrix of bytes, checked and turned into numbers a
    block at a time, one array per byte position (no regex, no string slicing)."""
    n = len(values)
    if n == 0:
        return _FastRead.nothing(0)
    read: _FastRead | None = None
    lengths = values.str.len_bytes()
    for length in _FAST_LENGTHS:
        of_length = (lengths == length).fill_null(False)
        count = int(of_length.sum())
        if count == 0:
            continue
        shape = pl.Array(pl.UInt8, length)
        if count == n:
            bytes_ = values.cast(pl.Binary).bin.reinterpret(dtype=shape)
        elif count + values.null_count() == n:
            # every value this long, some cells empty: read the column whole, the empty
            # cells as NUL bytes (not of the shape), rather than gather and scatter the rest
            bytes_ = values.cast(pl.Binary).bin.reinterpret(dtype=shape)
            bytes_, count = bytes_.fill_null(pl.Series([[0] * length], dtype=shape)), n
        else:
            bytes_ = values.filter(of_length).cast(pl.Binary).bin.reinterpret(dtype=shape)
        matrix = bytes_.to_numpy()
        if matrix.dtype != np.uint8 or matrix.shape != (count, length):
            continue  # not the bytes expected: the general path reads these values
        got = _FastRead(
            np.empty(count, np.bool_), np.empty(count, np.int64), np.empty(count, np.bool_)
        )
        for start in range(0, count, _BLOCK):
            end = min(start + _BLOCK, count)
            chars = np.ascontiguousarray(matrix[start:end].T)  # one row per byte position
            got.fast[start:end], got.micros[start:end] = _read_bytes(chars, length)
        got.has_tz.fill(length != 19)
        if count == n:
            return got
        if read is None:
            read = _FastRead.nothing(n)
        at = of_length.arg_true().to_numpy()
        read.fast[at] = got.fast
        read.micros[at] = got.micros
        read.has_tz[at] = got.has_tz
    return read if read is not None else _FastRead.nothing(n)


def _read_bytes(
    chars: npt.NDArray[np.uint8], length: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """``chars[i]``: the i-th byte of every value (all ``length`` bytes long). Returns
    whether each is of the fast shape with a valid date and time, and its microseconds (see
    :class:`_FastRead`; meaningless where it is not)."""
    fast = (chars[10] == ord("T")) | (chars[10] == ord(" "))
    for position, char in _FIXED:
        fast &= chars[position] == ord(char)
    tens_at, ones_at = _PAIRS[length]
    zero = np.uint8(ord("0"))
    tens = chars[tens_at] - zero  # one row per two-digit field; below '0' wraps to over 9
    ones = chars[ones_at] - zero
    fast &= (np.maximum(tens, ones) <= 9).all(axis=0)
    # Where the bytes are not digits the fields are nonsense (uint8 wraps around) but
    # bounded: the lookups stay in the table and the row is not fast anyway.
    fields = tens * np.uint8(10) + ones
    year = fields[0].astype(np.int32) * 100 + fields[1]
    month, day, hour, minute, second = fields[2], fields[3], fields[4], fields[5], fields[6]
    starts = _month_starts()
    index = np.minimum(year, 9_999) * 12 + np.clip(month, 1, 12) - 1
    first = starts[index]
    fast &= (month - np.uint8(1) <= 11) & (day >= 1) & (day <= starts[index + 1] - first)
    fast &= (hour <= 23) & (minute <= 59) & (second <= 59)
    seconds = hour.astype(np.int32) * 3_600 + minute.astype(np.int32) * 60 + second
    if length == 20:
        fast &= chars[19] == ord("Z")
    elif length == 25:
        sign = chars[19]
        fast &= ((sign == ord("+")) | (sign == ord("-"))) & (chars[22] == ord(":"))
        east = fields[7].astype(np.int32) * 60 + fields[8]
        # an offset beyond ±14:00 or with minutes past 59: the general path reports it
        fast &= (east <= MAX_OFFSET_MINUTES) & (fields[8] <= 59)
        seconds -= np.where(sign == ord("-"), -east, east) * 60
    micros = (first + day - 1).astype(np.int64) * 86_400 + seconds
    micros *= _MICROS
    return fast, micros


#: The two-digit fields' byte positions by length (tens, ones): the year's two halves,
#: month, day, hour, minute, second, and the offset's hours and minutes.
_PAIRS: dict[int, tuple[list[int], list[int]]] = {
    19: ([0, 2, 5, 8, 11, 14, 17], [1, 3, 6, 9, 12, 15, 18]),
    20: ([0, 2, 5, 8, 11, 14, 17], [1, 3, 6, 9, 12, 15, 18]),
    25: ([0, 2, 5, 8, 11, 14, 17, 20, 23], [1, 3, 6, 9, 12, 15, 18, 21, 24]),
}


def _general_front(groups: str, fmt: DateFormat) -> dict[str, pl.Expr]:
    """From the column ``groups`` holding ``str.extract_groups(fmt.regex)`` of the raw
    values: ``matched``, ``local`` (naive, null when the date is invalid) and ``offset``
    (minutes east of UTC; null: no offset or an unreadable one), ``has_tz``.

    The groups ``S``, ``ap`` and ``tz`` may be absent from the regex (a pattern without
    seconds, AM/PM or offset); a two-digit year is 1969-2068, as ``strptime`` reads it."""
    g = pl.col(groups)

    def field(name: str) -> pl.Expr:
        if f"(?P<{name}>" in fmt.regex:
            return g.struct.field(name)
        return pl.lit(None, pl.String)

    year = field("y")
    if r"(?P<y>\d{4})" not in fmt.regex:  # two digits possible (spared the common formats)
        year = (
            pl.when(year.str.len_chars() != 2)
            .then(year)
            .when(year.cast(pl.Int32, strict=False) >= 69)
            .then(pl.lit("19") + year)
            .otherwise(pl.lit("20") + year)
        )
    minute, second = field("M"), field("S").fill_null("00")
    if r"(?P<M>\d{2})" not in fmt.regex:  # a pattern's %M may be one digit
        minute = minute.str.zfill(2)
    if r"(?P<S>\d{2})" not in fmt.regex:
        second = second.str.zfill(2)
    month = field("mo")
    if "(?P<mo>[A-Za-z]" in fmt.regex:
        month = month.str.to_lowercase().replace_strict(_MONTHS, default=None)
    hour = field("H").cast(pl.Int32, strict=False)  # a non-ASCII digit: invalid
    if "(?P<ap>" in fmt.regex:
        ap = field("ap").str.to_lowercase()
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
        field("d").str.zfill(2),
        hour.cast(pl.String).str.zfill(2),
        minute,
        second,
    )
    local = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    tz = field("tz")
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
    minutes = tz_digits.str.slice(3, 2).cast(pl.Int64, strict=False).fill_null(0)
    return {
        "matched": field("H").is_not_null(),
        "local": local,
        "offset": offset_min.cast(pl.Int64),
        "has_tz": tz.is_not_null(),
        "bad_offset": (offset_min.abs() > MAX_OFFSET_MINUTES) | (minutes > 59),
    }


def local_times(values: pl.Series, fmt: DateFormat) -> pl.Series:
    """``values`` (strings) read with ``fmt`` as wall-clock times, ignoring any offset: null
    where a value is null, not of the format's shape, or no valid date and time. For
    comparing formats (``tandem.ingest.dates``), not for importing (see ``parse_instants``)."""
    if len(values) == 0:
        return pl.Series("local", [], pl.Datetime("us"))
    groups = (
        values.rename("raw")
        .to_frame()
        .select(pl.col("raw").str.extract_groups(fmt.regex).alias("groups"))
    )
    front = _general_front("groups", fmt)
    return groups.select(pl.when(front["matched"]).then(front["local"]).alias("local")).to_series()


def clean_iso(
    df: pl.DataFrame, canonical: Sequence[str]
) -> tuple[pl.DataFrame, dict[str, _FastRead]]:
    """Clean the ``canonical`` columns that ``scan_csv`` left raw (``raw=``) as it cleans
    the others (strip, missing-value cells as nulls), reading them with the ISO fast path
    first: a value it reads is clean already (an ASCII digit first, a digit or ``Z`` last;
    no missing-value marker looks like that), so only the others are cleaned. Returns the
    frame and the fast reads, for ``parse_instants(..., fast=)`` with an ISO format."""
    reads: dict[str, _FastRead] = {}
    cleaned = []
    for c in canonical:
        if c not in df.columns:
            continue
        values = df.get_column(c)
        read = _fast_iso(values)
        reads[c] = read
        rest = np.flatnonzero(~read.fast & values.is_not_null().to_numpy())
        if len(rest):
            cleaned.append(values.clone().scatter(rest, clean_values(values.gather(rest))))
    return (df.with_columns(cleaned) if cleaned else df), reads


def all_fast(df: pl.DataFrame, reads: Mapping[str, _FastRead]) -> bool:
    """Whether every non-empty value of the columns :func:`clean_iso` read is of the common
    ISO shape (read fast): then ISO 8601 reads them all, whatever other format was chosen."""
    return all(
        bool(np.all(read.fast | df.get_column(c).is_null().to_numpy())) for c, read in reads.items()
    )


def _parse_column(
    values: pl.Series, fmt: DateFormat, timezone: str, read: _FastRead | None = None
) -> pl.DataFrame:
    """One raw string column read: ``utc`` (the instant, whole seconds) and the flags
    ``nomatch`` (not of the format's shape), ``invalid`` (no such date or time), ``gap``
    (naive time that does not exist in ``timezone``), ``ambiguous`` (naive time that occurs
    twice); one row per value, in order.

    Values of the common ISO shape are read from their bytes (:func:`_fast_iso`); those with
    an offset (any, in UTC) are instants at once. The rest (other shapes, wall-clock times
    in another zone) go through :func:`_slow_column`, only those rows."""
    parsed = _parse_utc(values, fmt, timezone, read)
    # outside the plausible years: one comparison per value, rows only where one is
    return parsed.with_columns(out_of_years(pl.col("utc")).fill_null(False).alias("years"))


def _parse_utc(
    values: pl.Series, fmt: DateFormat, timezone: str, read: _FastRead | None
) -> pl.DataFrame:
    n = len(values)
    if fmt.regex != ISO.regex:
        read = _FastRead.nothing(n)
    elif read is None:
        read = _fast_iso(values)
    direct = read.fast & (read.has_tz | (timezone == "UTC"))
    if not direct.any():
        return _slow_column(values, read, fmt, timezone)
    out = pl.DataFrame({"direct": direct, "utc": read.micros}).select(
        pl.when(pl.col("direct")).then(pl.col("utc")).cast(UTC_INSTANT).alias("utc"),
        *(pl.repeat(False, n, dtype=pl.Boolean).alias(f) for f in _FLAGS),
    )
    rest = np.flatnonzero(~direct & values.is_not_null().to_numpy())
    if len(rest) == 0:
        return out
    slow = _slow_column(values.gather(rest), read.take(rest), fmt, timezone)
    return out.with_columns(out[c].scatter(rest, slow[c]) for c in ("utc", *_FLAGS))


_FLAGS = ("nomatch", "invalid", "gap", "ambiguous", "offset", "years")


def _slow_column(
    values: pl.Series, read: _FastRead, fmt: DateFormat, timezone: str
) -> pl.DataFrame:
    """:func:`_parse_column` for ``values`` whose fast read (``read``) did not settle them:
    the values not read fast go through ``fmt.regex`` (its groups extracted once), then the
    wall-clock times are placed in ``timezone``."""
    raw = values.rename("raw").to_frame()
    local = pl.Series("local", read.micros, pl.Int64).cast(pl.Datetime("us"))
    fast = pl.Series("fast", read.fast, pl.Boolean)
    has_tz = pl.Series("has_tz", read.fast & read.has_tz, pl.Boolean)
    front = raw.with_columns(  # an instant read fast is its own wall clock at offset 0
        fast.alias("matched"),
        pl.when(fast).then(local).alias("local"),
        pl.when(has_tz).then(0).cast(pl.Int64).alias("offset"),
        has_tz,
        pl.lit(False).alias("bad_offset"),
    )
    general = front.select((pl.col("raw").is_not_null() & ~pl.col("matched")).arg_true())
    rows = general.to_series()
    if len(rows):
        groups = raw[rows].select(pl.col("raw").str.extract_groups(fmt.regex).alias("groups"))
        parsed = groups.select(**_general_front("groups", fmt))
        front = front.with_columns(
            front[name].scatter(rows, parsed[name])
            for name in ("matched", "local", "offset", "has_tz", "bad_offset")
        )
    local_at = pl.col("local")
    has_offset = pl.col("has_tz")
    aware = local_at.dt.replace_time_zone("UTC") - pl.duration(minutes=pl.col("offset"))
    if timezone == "UTC":
        naive = local_at.dt.replace_time_zone("UTC")
        gap = pl.lit(False)
        ambiguous = pl.lit(False)
    else:
        wall = pl.when(has_offset).then(None).otherwise(local_at)  # only naive values need it
        early = wall.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        late = wall.dt.replace_time_zone(timezone, ambiguous="latest", non_existent="null")
        naive = early.dt.convert_time_zone("UTC")
        gap = ~has_offset & local_at.is_not_null() & early.is_null()
        ambiguous = ~has_offset & (early != late).fill_null(False)
    utc = pl.when(has_offset).then(aware).otherwise(naive).dt.truncate("1s").cast(UTC_INSTANT)
    return front.select(
        utc.alias("utc"),
        (pl.col("raw").is_not_null() & ~pl.col("matched")).alias("nomatch"),
        (pl.col("matched") & local_at.is_null()).alias("invalid"),
        gap.alias("gap"),
        ambiguous.alias("ambiguous"),
        (pl.col("matched") & pl.col("bad_offset").fill_null(False)).alias("offset"),
        pl.lit(False).alias("years"),
    )


def parse_instants(
    df: pl.DataFrame,
    canonical: Sequence[str],
    fmt: DateFormat,
    timezone: str,
    problems: Problems,
    warnings: list[str],
    labels: Mapping[str, str],
    *,
    fast: Mapping[str, _FastRead] | None = None,
) -> pl.DataFrame:
    """Replace each of the ``canonical`` string columns of ``df`` by UTC instants.

    Values without an offset are wall-clock times in ``timezone``. A time that occurs twice
    (the hour repeated when clocks fall back) is read as the first occurrence, with a
    warning; one that does not exist (skipped when clocks spring forward) is a problem.
    ``fast``: the columns' fast reads from :func:`clean_iso` (not made again).
    """
    present = [c for c in canonical if c in df.columns]
    outs = []
    reads = []
    for c in present:
        parsed = _parse_column(df[c], fmt, timezone, (fast or {}).get(c))
        outs.append(parsed["utc"].alias(c))
        reads.append((c, parsed, parsed.select(pl.col(f).sum() for f in _FLAGS).row(0)))
    if any(counts[0] or counts[1] for _, _, counts in reads):
        # values that do not read: which rows, and which common formats would read them
        from tandem.ingest.dates import explain_dates

        explain_dates(df, present, labels, problems, fmt)
    for c, parsed, counts in reads:
        if not any(counts):
            continue  # rows and messages only where a problem is
        flags = parsed.select(_FLAGS).with_columns(df[ROW], df[c])
        label = labels.get(c, c)
        if counts[0]:
            bad = flags.filter(pl.col("nomatch")).head(problems.room)
            for row, value in bad.select(ROW, c).iter_rows():
                problems.add(row, label, f"cannot read '{value}' as a timestamp ({fmt.label})")
        if counts[1]:
            bad = flags.filter(pl.col("invalid")).head(problems.room)
            for row, value in bad.select(ROW, c).iter_rows():
                problems.add(row, label, f"'{value}' is not a valid date and time")
        if counts[2]:
            bad = flags.filter(pl.col("gap")).head(problems.room)
            for row, value in bad.select(ROW, c).iter_rows():
                problems.add(
                    row,
                    label,
                    f"'{value}' does not exist in {timezone} (the clocks skip that hour)",
                )
        if counts[4]:
            bad = flags.filter(pl.col("offset")).head(problems.room)
            for row, value in bad.select(ROW, c).iter_rows():
                problems.add(row, label, offset_reason(value))
        if counts[5]:
            bad = flags.filter(pl.col("years") & ~pl.col("offset")).head(problems.room)
            for row, value in bad.select(ROW, c).iter_rows():
                problems.add(row, label, years_reason(value))
        n_amb = int(counts[3])
        if n_amb:
            first = flags.filter(pl.col("ambiguous"))[ROW][0]
            warnings.append(
                f"{label}: {n_amb} time(s) occur twice in {timezone} when clocks fall back "
                f"(first on row {first}); read as the first occurrence"
            )
    return df.with_columns(outs)
