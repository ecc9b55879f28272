"""Timestamps: the export date formats, detection per file, parsing to UTC seconds."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import polars as pl

from tandem.analytics.frames import UTC_INSTANT
from tandem.ingest._common.base import ROW
from tandem.ingest.errors import Problems

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


#: The common shape of ISO values, read by slicing instead of a regex with groups:
#: ``yyyy-MM-dd``, ``T`` or a space, ``HH:mm:ss``, then nothing, ``Z`` or ``+HH:MM``/``-HH:MM``.
#: Values of any other shape (and those out of range here) take the general path.
_ISO_FAST = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})?$"
)
_MICROS = 1_000_000


@functools.cache
def _month_starts() -> pl.Series:
    """Days from 1970-01-01 to the first of each month, January of year 0 to January of year
    10000 (proleptic Gregorian, as ``strptime`` reads dates), at ``year * 12 + month - 1``."""
    months = np.arange(-1970 * 12, (10_000 - 1970) * 12 + 1, dtype=np.int64)
    days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return pl.Series("month_start", days, pl.Int64)


def _fast_front(values: pl.DataFrame) -> pl.DataFrame:
    """For the values (column ``raw``) of the :data:`_ISO_FAST` shape with a valid date and
    time: ``fast`` (true for those), ``local`` (naive) and ``offset`` (minutes east of UTC;
    null: no offset), the same as the general path reads them; other rows are left to it."""
    value = pl.col("raw")

    def part(start: int, length: int) -> pl.Expr:
        return value.str.slice(start, length).cast(pl.Int64, strict=False)

    parts = values.select(
        value.str.contains(_ISO_FAST).fill_null(False).alias("shape"),
        value.str.len_bytes().alias("length"),
        part(0, 4).alias("year"),
        part(5, 2).alias("month"),
        part(8, 2).alias("day"),
        part(11, 2).alias("hour"),
        part(14, 2).alias("minute"),
        part(17, 2).alias("second"),
    )
    year, month, day = pl.col("year"), pl.col("month"), pl.col("day")
    hour, minute, second = pl.col("hour"), pl.col("minute"), pl.col("second")
    # The shape makes the year 0000-9999; a month out of range is looked up as January and
    # the row left to the general path.
    index = (year.clip(0, 9_999) * 12 + month.clip(1, 12) - 1).fill_null(0)
    starts = pl.lit(_month_starts())
    first, following = starts.gather(index), starts.gather(index + 1)
    valid = (
        pl.col("shape")
        & month.is_between(1, 12)
        & day.is_between(1, following - first)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
    )
    seconds = (first + day - 1) * 86_400 + hour * 3_600 + minute * 60 + second
    length = pl.col("length")
    if bool((parts["length"] == 25).any()):  # a value with ``+HH:MM`` / ``-HH:MM``
        east = part(20, 2) * 60 + part(23, 2)
        signed = pl.when(value.str.slice(19, 1) == "-").then(-east).otherwise(east)
        parts = parts.with_columns(values["raw"])
    else:
        signed = pl.lit(None, pl.Int64)
    offset = pl.when(length == 19).then(None).when(length == 20).then(0).otherwise(signed)
    return parts.select(
        valid.fill_null(False).alias("fast"),
        (seconds * _MICROS).cast(pl.Datetime("us")).alias("local"),
        offset.cast(pl.Int64).alias("offset"),
    )


def _general_front(groups: str, fmt: DateFormat) -> dict[str, pl.Expr]:
    """From the column ``groups`` holding ``str.extract_groups(fmt.regex)`` of the raw
    values: ``matched``, ``local`` (naive, null when the date is invalid) and ``offset``
    (minutes east of UTC; null: no offset or an unreadable one), ``has_tz``."""
    g = pl.col(groups)
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
    return {
        "matched": g.struct.field("H").is_not_null(),
        "local": local,
        "offset": offset_min.cast(pl.Int64),
        "has_tz": tz.is_not_null(),
    }


def _parse_column(values: pl.Series, fmt: DateFormat, timezone: str) -> pl.DataFrame:
    """One raw string column read: ``utc`` (the instant, whole seconds) and the flags
    ``nomatch`` (not of the format's shape), ``invalid`` (no such date or time), ``gap``
    (naive time that does not exist in ``timezone``), ``ambiguous`` (naive time that occurs
    twice); one row per value, in order.

    Values of the common ISO shape are read by slicing (:func:`_fast_front`); the rest go
    through ``fmt.regex``, whose groups are extracted once."""
    raw = values.rename("raw").to_frame()
    if fmt.regex == ISO.regex:
        front = _fast_front(raw).with_columns(raw["raw"])
        general = front.select((pl.col("raw").is_not_null() & ~pl.col("fast")).arg_true())
        front = front.with_columns(
            pl.col("fast").alias("matched"), pl.col("offset").is_not_null().alias("has_tz")
        ).drop("fast")
    else:
        front = raw.select(
            "raw",
            pl.lit(False).alias("matched"),
            pl.lit(None, pl.Datetime("us")).alias("local"),
            pl.lit(None, pl.Int64).alias("offset"),
            pl.lit(False).alias("has_tz"),
        )
        general = raw.select(pl.col("raw").is_not_null().arg_true())
    rows = general.to_series()
    if len(rows):
        groups = raw[rows].select(pl.col("raw").str.extract_groups(fmt.regex).alias("groups"))
        read = groups.select(**_general_front("groups", fmt))
        front = front.with_columns(
            front[name].scatter(rows, read[name])
            for name in ("matched", "local", "offset", "has_tz")
        )
    local = pl.col("local")
    has_tz = pl.col("has_tz")
    aware = local.dt.replace_time_zone("UTC") - pl.duration(minutes=pl.col("offset"))
    if timezone == "UTC":
        naive = local.dt.replace_time_zone("UTC")
        gap = pl.lit(False)
        ambiguous = pl.lit(False)
    else:
        wall = pl.when(has_tz).then(None).otherwise(local)  # only naive values need the zone
        early = wall.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        late = wall.dt.replace_time_zone(timezone, ambiguous="latest", non_existent="null")
        naive = early.dt.convert_time_zone("UTC")
        gap = ~has_tz & local.is_not_null() & early.is_null()
        ambiguous = ~has_tz & (early != late).fill_null(False)
    utc = pl.when(has_tz).then(aware).otherwise(naive).dt.truncate("1s").cast(UTC_INSTANT)
    return front.select(
        utc.alias("utc"),
        (pl.col("raw").is_not_null() & ~pl.col("matched")).alias("nomatch"),
        (pl.col("matched") & local.is_null()).alias("invalid"),
        gap.alias("gap"),
        ambiguous.alias("ambiguous"),
    )


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
    outs = []
    for c in present:
        parsed = _parse_column(df[c], fmt, timezone)
        outs.append(parsed["utc"].alias(c))
        flags = parsed.select(pl.exclude("utc")).with_columns(df[ROW], df[c])
        label = labels.get(c, c)
        bad = flags.filter(pl.col("nomatch")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(row, label, f"cannot read '{value}' as a timestamp ({fmt.label})")
        bad = flags.filter(pl.col("invalid")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(row, label, f"'{value}' is not a valid date and time")
        bad = flags.filter(pl.col("gap")).head(problems.room)
        for row, value in bad.select(ROW, c).iter_rows():
            problems.add(
                row,
                label,
                f"'{value}' does not exist in {timezone} (the clocks skip that hour)",
            )
        n_amb = int(flags["ambiguous"].sum())
        if n_amb:
            first = flags.filter(pl.col("ambiguous"))[ROW][0]
            warnings.append(
                f"{label}: {n_amb} time(s) occur twice in {timezone} when clocks fall back "
                f"(first on row {first}); read as the first occurrence"
            )
    return df.with_columns(outs)
