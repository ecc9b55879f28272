"""Date formats: the choices a person gives, and what a file whose timestamps do not read is
told (its first bad rows and column, the formats that would read it, ambiguity)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.ingest import IngestError, read_generic, read_holds_csv, read_servicenow
from tandem.ingest._common.base import ROW
from tandem.ingest.dates import (
    CANDIDATES,
    NAMED,
    SHOWN_ROWS,
    DateFormatError,
    explain_dates,
    parse_date_format,
)
from tandem.ingest.errors import Problems

HEADER = "ticket_id,priority,opened_at,responded_at,resolved_at,assignment_group\n"


def generic(opened: list[str], **kw: object) -> bytes:
    rows = "".join(f"T{i},P1,{value},,,G\n" for i, value in enumerate(opened))
    return (HEADER + rows).encode()


def refused(data: bytes, reader=read_generic, **kw) -> IngestError:  # type: ignore[no-untyped-def]
    with pytest.raises(IngestError) as e:
        reader(io.BytesIO(data), file_name="t.csv", **kw)
    return e.value


# Choosing a format ---------------------------------------------------------------------


def test_a_named_choice_a_servicenow_label_and_a_pattern_read_the_same_file() -> None:
    data = generic(["05/03/2024 14:30", "06/03/2024 09:05"])
    for choice in ("dd/mm/yyyy", "DD/MM/YYYY", "%d/%m/%Y %H:%M", "dd/MM/yyyy HH:mm:ss"):
        got = read_generic(io.BytesIO(data), date_format=choice).tickets
        assert got["opened_at"].dt.strftime("%F %R").to_list() == [
            "2024-03-05 14:30",
            "2024-03-06 09:05",
        ], choice
    got = read_generic(io.BytesIO(data), date_format="%m/%d/%Y %H:%M").tickets
    assert got["opened_at"].dt.strftime("%F").to_list() == ["2024-05-03", "2024-06-03"]


def test_patterns_with_am_pm_month_names_offsets_and_two_digit_years() -> None:
    cases = {
        "%d/%m/%Y %I:%M %p": ("05/03/2024 02:30 PM", "2024-03-05 14:30"),
        "%d %b %Y %H:%M:%S": ("5 mar 2024 14:30:07", "2024-03-05 14:30:07"),
        "%Y%m%d %H%M": ("20240305 1430", "2024-03-05 14:30"),
        "%d/%m/%y %H:%M %z": ("05/03/24 14:30 +0100", "2024-03-05 13:30"),
        "%d/%m/%y %H:%M": ("05/03/99 14:30", "1999-03-05 14:30"),
        "%Y-%m-%d %H:%M:%S.%f": ("2024-03-05 14:30:07.123456", "2024-03-05 14:30:07"),
        "at %H:%M on %d.%m.%Y (100%%)": ("at 14:30 on 05.03.2024 (100%)", "2024-03-05 14:30"),
    }
    for pattern, (value, expected) in cases.items():
        got = read_generic(io.BytesIO(generic([value])), date_format=pattern).tickets
        shown = got["opened_at"].dt.strftime("%F %T").item()
        assert shown.startswith(expected), (pattern, shown)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("", "empty"),
        ("%", "lone '%'"),
        ("%Q", "'%Q' is not a directive"),
        ("%Y-%m-%d", "lacks %H or %I, %M"),
        ("%d/%m %H:%M", "lacks %Y or %y"),
        ("%d/%m/%Y %I:%M", "%I (hour 1-12) and %p"),
        ("%d/%m/%Y %H:%M %d", "day twice"),
        ("%Y/%y/%m/%d %H:%M", "year, 2 digits twice"),
        ("%d/%m/%Y %H:%M.%f", "%f (fraction of a second) needs %S"),
        ("%" * 10_000, "over the limit"),
        ("x" * 10_000, "unknown date format"),
        ("day first", "unknown date format 'day first'"),
        ("(?P<y>.*)[", "unknown date format"),
    ],
)
def test_a_bad_choice_says_what_is_wrong(option: str, message: str) -> None:
    with pytest.raises(DateFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_date_format(option)
    if not option:
        return  # to a reader, an empty choice is its own format ("auto")
    # a reader names the option, for the whole file
    e = refused(generic(["2024-03-05 14:30"]), date_format=option)
    assert e.problems[0].row is None and e.problems[0].column is None
    assert str(e.problems[0]).startswith("t.csv: date_format: ")


def test_auto_is_the_reader_own_format() -> None:
    for option in (None, "", "auto", "AUTO"):
        got = read_generic(io.BytesIO(generic(["2024-03-05T14:30:00Z"])), date_format=option)
        assert got.tickets.height == 1


def test_regex_characters_in_a_pattern_are_literal() -> None:
    fmt = parse_date_format("[%d|%m|%Y] %H:%M")
    got = read_generic(io.BytesIO(generic(["[05|03|2024] 14:30"])), date_format="[%d|%m|%Y] %H:%M")
    assert got.tickets["opened_at"].dt.strftime("%F").item() == "2024-03-05"
    assert fmt.regex.startswith("^\\[")
    e = refused(generic(["05-03-2024 14:30"]), date_format="[%d|%m|%Y] %H:%M")
    assert e.problems[0].row == 2


# What a file is told -------------------------------------------------------------------


def test_a_mixed_file_names_the_first_bad_rows_column_and_values() -> None:
    values = ["2024-03-05 10:00"] * 3 + [f"0{i}/03/2024 10:00" for i in range(1, 8)]
    e = refused(generic(values))
    first = e.problems[0]
    assert (first.row, first.column) == (5, "opened_at")
    shown = [f"row {r} '0{r - 4}/03/2024 10:00'" for r in range(5, 5 + SHOWN_ROWS)]
    assert "7 values cannot be read with the file's date format" in first.reason
    assert "; ".join(shown) + "; ..." in first.reason
    assert "row 10 " not in first.reason  # only the first five
    assert "No common date format reads every timestamp" in first.reason
    assert "'iso' 3" in first.reason and "'dd/mm/yyyy' 7" in first.reason
    assert e.dates is not None
    assert e.dates.columns == ("opened_at",) and e.dates.readable == ()
    # then every bad row on its own, as before
    assert [p.row for p in e.problems[1:]] == list(range(5, 12))


def test_impossible_dates_are_named() -> None:
    e = refused(generic(["2024-03-05 10:00", "2024-02-30 10:00", "13/13/2024"]))
    assert e.problems[0].reason.startswith(
        "2 values cannot be read with the file's date format (ISO 8601, e.g. "
        "2025-03-01T09:00:00Z): row 3 '2024-02-30 10:00'; row 4 '13/13/2024'."
    )


def test_an_unambiguous_file_in_another_format_is_told_which_reads_it() -> None:
    e = refused(generic(["13/03/2024 10:00", "06/03/2024 10:00"]))
    assert e.problems[0].reason.endswith(
        "Every timestamp in the file reads as 'dd/mm/yyyy': choose that date format."
    )
    assert e.dates is not None
    assert e.dates.readable == ("dd/mm/yyyy",) and not e.dates.ambiguous


def test_an_ambiguous_file_asks_rather_than_guesses() -> None:
    e = refused(generic(["05/03/2024 10:00", "06/03/2024 10:00"]))
    assert e.problems[0].reason.startswith(
        "the dates are ambiguous: 'dd/mm/yyyy' and 'mm/dd/yyyy' read every timestamp"
    )
    assert "05 March 2024 as 'dd/mm/yyyy', 03 May 2024 as 'mm/dd/yyyy'" in e.problems[0].reason
    assert e.dates is not None and e.dates.ambiguous
    assert e.dates.readable == ("dd/mm/yyyy", "mm/dd/yyyy")
    # the same dates either way (the day is the month): no ambiguity, both offered
    e = refused(generic(["05/05/2024 10:00"]))
    assert e.dates is not None and not e.dates.ambiguous
    assert e.dates.readable == ("dd/mm/yyyy", "mm/dd/yyyy")


def test_servicenow_detection_failures_name_rows_and_columns() -> None:
    data = (
        "Number,Opened,Resolved,Priority\n"
        "INC1,13-03-2025 08:00:00,14-03-2025 08:00:00,2 - High\n"
        "INC2,03-14-2025 08:00:00,,2 - High\n"
    )
    e = refused(data.encode(), read_servicenow)
    assert (e.problems[0].row, e.problems[0].column) == (3, "Opened")
    assert "row 3 '03-14-2025 08:00:00'" in e.problems[0].reason
    assert e.dates is not None and e.dates.columns == ("Opened",)


def test_holds_take_a_date_format_too() -> None:
    data = b"ticket_id,start,end\nT1,05/03/2024 10:00,05/03/2024 11:00\n"
    got = read_holds_csv(io.BytesIO(data), date_format="dd/mm/yyyy")
    assert got.holds["start"].dt.strftime("%F %R").item() == "2024-03-05 10:00"
    e = refused(data, read_holds_csv)
    assert e.dates is not None and e.dates.ambiguous
    # an ISO holds file beside a day-first export: read as ISO whatever the choice
    iso = b"ticket_id,start,end\nT1,2024-03-05T10:00:00Z,\n"
    got = read_holds_csv(io.BytesIO(iso), date_format="dd/mm/yyyy")
    assert got.holds["start"].dt.strftime("%F %R").item() == "2024-03-05 10:00"


def test_a_dst_gap_is_named_with_its_row() -> None:
    e = refused(generic(["31/03/2024 02:30"]), date_format="dd/mm/yyyy", timezone="Europe/Paris")
    assert str(e.problems[0]) == (
        "t.csv, row 2, column 'opened_at': '31/03/2024 02:30' does not exist in "
        "Europe/Paris (the clocks skip that hour)"
    )


# Properties against a slow, obvious oracle ---------------------------------------------

SPELLINGS = [(c.name, s) for c in CANDIDATES for s in c.spellings]


def oracle(value: str, candidate: str) -> datetime | None:
    """What ``strptime`` reads ``value`` as with any spelling of ``candidate`` (in UTC when
    it carries an offset, naive otherwise), or None."""
    for spelling in NAMED[candidate].spellings:
        try:
            got = datetime.strptime(value, spelling)
        except ValueError:
            continue
        if spelling.endswith("Z"):
            return got
        return got.astimezone(UTC).replace(tzinfo=None) if got.tzinfo else got
    return None


@st.composite
def written(draw: st.DrawFn) -> tuple[str, str, list[datetime], list[str]]:
    name, spelling = draw(st.sampled_from(SPELLINGS))
    moments = draw(
        st.lists(
            st.datetimes(min_value=datetime(1990, 1, 2), max_value=datetime(2068, 12, 30)),
            min_size=1,
            max_size=6,
        )
    )
    if "%S" not in spelling:
        moments = [m.replace(second=0, microsecond=0) for m in moments]
    elif "%f" not in spelling:
        moments = [m.replace(microsecond=0) for m in moments]
    if "%z" in spelling:
        east = draw(st.integers(-14 * 60, 14 * 60))
        zone = timezone(timedelta(minutes=east))
        values = [m.replace(tzinfo=zone).strftime(spelling) for m in moments]
        moments = [m - timedelta(minutes=east) for m in moments]
    else:
        values = [m.strftime(spelling) for m in moments]
    return name, spelling, moments, values


def explained(values: list[str]) -> tuple[Problems, object]:
    df = pl.DataFrame({ROW: range(2, len(values) + 2), "at": values})
    problems = Problems("t.csv")
    return problems, explain_dates(df, ["at"], {"at": "When"}, problems)


@settings(max_examples=80, deadline=None)
@given(written())
def test_a_written_format_is_among_the_candidates_and_reads_back(case) -> None:  # type: ignore[no-untyped-def]
    name, spelling, moments, values = case
    _, hint = explained(values)
    expected = tuple(
        c.name for c in CANDIDATES if all(oracle(v, c.name) is not None for v in values)
    )
    assert name in expected, (spelling, values)
    assert hint.readable == expected, (spelling, values)  # type: ignore[attr-defined]
    readings = {tuple(oracle(v, n) for v in values) for n in expected}
    assert hint.ambiguous == (len(readings) > 1)  # type: ignore[attr-defined]
    got = read_generic(io.BytesIO(generic(values)), date_format=name).tickets["opened_at"]
    want = [m.replace(microsecond=0) for m in moments]
    assert got.dt.replace_time_zone(None).to_list() == want, (spelling, values)
    got = read_generic(io.BytesIO(generic(values)), date_format=spelling).tickets["opened_at"]
    assert got.dt.replace_time_zone(None).to_list() == want, (spelling, values)


CORRUPT = ["2024-02-30 10:00", "13/13/2024", "yesterday", "31/04/2024 10:00", "10:00"]


@settings(max_examples=60, deadline=None)
@given(written(), st.data())
def test_a_corrupted_value_is_reported_with_its_row_and_column(case, data) -> None:  # type: ignore[no-untyped-def]
    name, spelling, _, values = case
    at = data.draw(st.integers(0, len(values) - 1))
    how = data.draw(st.sampled_from([*CORRUPT, "suffix"]))
    bad = values[at] + "x" if how == "suffix" else how
    values = [*values[:at], bad, *values[at + 1 :]]
    e = refused(generic(values), date_format=spelling)
    summary = e.problems[0]
    assert (summary.row, summary.column) == (at + 2, "opened_at")
    assert f"row {at + 2} '{bad}'" in summary.reason
    assert "1 value cannot be read" in summary.reason
    assert e.dates is not None and e.dates.columns == ("opened_at",)
    assert any(p.row == at + 2 and p.column == "opened_at" for p in e.problems[1:])


@settings(max_examples=150, deadline=None)
@given(
    st.one_of(
        st.text(max_size=80),
        st.lists(
            st.sampled_from(["%Y", "%y", "%m", "%b", "%d", "%H", "%I", "%M", "%S", "%f", "%p",
                             "%z", "%%", "%", "%Q", "-", "/", " ", "T", ".", ":", "é", "\\", "["]),
            max_size=14,
        ).map("".join),
    )
)  # fmt: skip
def test_any_text_is_a_format_or_a_clear_refusal_never_a_crash(option: str) -> None:
    try:
        fmt = parse_date_format(option)
    except DateFormatError as e:
        assert str(e)
        return
    # a format the readers can use: every value reads or is a problem, nothing else
    try:
        read_generic(io.BytesIO(generic(["2024-03-05 14:30", "x"])), date_format=option)
    except IngestError as e:
        assert all(p.file == "t.csv" for p in e.problems)
    assert fmt.regex.startswith("^")
