"""Policy TOML: the example of issue 3 reads as written, and every mistake names its key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tandem.analytics.calendar import ALL_DAY, Window
from tandem.analytics.policy import PolicyError, Target, load_policy, parse_policy

EXAMPLE = """
[calendars.business]
timezone = "America/Chicago"
holidays = ["2025-11-27", "2025-12-25"]
[calendars.business.weekly]
mon = ["08:00-17:00"]
tue = ["07:00-12:00", "13:00-19:00"]
[calendars.always]
timezone = "America/Chicago"
weekly = "24x7"
[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "240m"
pause_on_hold = true
goal = 0.95
[[targets]]
priority = "P3"
metric = "response"
calendar = "business"
within = "4h"
pause_on_hold = false
"""


def test_the_issue_example_reads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    policy = load_policy(path)
    assert list(policy.calendars) == ["business", "always"]
    business = policy.calendars["business"]
    assert business.timezone == "America/Chicago"
    assert business.holidays == {date(2025, 11, 27), date(2025, 12, 25)}
    assert business.weekly[0] == (Window(8 * 3600, 17 * 3600),)
    assert business.weekly[1] == (Window(7 * 3600, 12 * 3600), Window(13 * 3600, 19 * 3600))
    assert business.weekly[2] == ()
    assert policy.calendars["always"].weekly == ((ALL_DAY,),) * 7
    assert policy.targets == (
        Target("P1", "resolution", "always", 4 * 3600, True, 0.95),
        Target("P3", "response", "business", 4 * 3600, False, None),
    )
    hash(policy)


def test_native_toml_dates_and_holiday_countries() -> None:
    text = EXAMPLE.replace(
        'holidays = ["2025-11-27", "2025-12-25"]',
        'holidays = [2025-11-27]\nholiday_country = "US"\nholiday_subdivision = "TX"',
    )
    business = parse_policy(text).calendars["business"]
    assert business.holidays == {date(2025, 11, 27)}
    assert (business.holiday_country, business.holiday_subdivision) == ("US", "TX")


def test_units() -> None:
    for within, seconds in [("90s", 90), ("240m", 14_400), ("4h", 14_400), (" 8 h ", 28_800)]:
        text = EXAMPLE.replace('within = "4h"', f'within = "{within}"')
        assert parse_policy(text).targets[1].within_seconds == seconds


def edited(old: str, new: str) -> str:
    assert old in EXAMPLE
    return EXAMPLE.replace(old, new, 1)


BAD = [
    # (edit to the example, key path, message)
    (
        ('calendar = "always"', 'calendar = "busness"'),
        "targets[0].calendar",
        "unknown calendar 'busness' (known: business, always)",
    ),
    (
        ('mon = ["08:00-17:00"]', 'mon = ["17:00-08:00"]'),
        "calendars.business.weekly.mon[0]",
        "window 17:00-08:00 ends before it starts",
    ),
    (
        ('mon = ["08:00-17:00"]', 'mon = ["08:00-08:00"]'),
        "calendars.business.weekly.mon[0]",
        "window 08:00-08:00 is empty",
    ),
    (
        ('mon = ["08:00-17:00"]', 'mon = ["8-17"]'),
        "calendars.business.weekly.mon[0]",
        "window '8-17' is not HH:MM-HH:MM",
    ),
    (
        ('mon = ["08:00-17:00"]', 'mon = ["08:00-24:30"]'),
        "calendars.business.weekly.mon[0]",
        "window '08:00-24:30' has an impossible time",
    ),
    (
        ('mon = ["08:00-17:00"]', 'mon = ["08:00-12:00", "11:00-13:00"]'),
        "calendars.business.weekly.mon[1]",
        "window 11:00-13:00 overlaps mon[0] 08:00-12:00",
    ),
    (
        ('mon = ["08:00-17:00"]', 'mon = "08:00-17:00"'),
        "calendars.business.weekly.mon",
        'must be a list of windows, e.g. ["08:00-17:00"]',
    ),
    (
        ('mon = ["08:00-17:00"]', "mon = [800]"),
        "calendars.business.weekly.mon[0]",
        "800: must be a string",
    ),
    (
        ('mon = ["08:00-17:00"]', 'monday = ["08:00-17:00"]'),
        "calendars.business.weekly.monday",
        "unknown key (expected: fri, mon, sat, sun, thu, tue, wed)",
    ),
    (
        ('weekly = "24x7"', 'weekly = "24/7"'),
        "calendars.always.weekly",
        "'24/7': write '24x7' or a table of days (mon = [...])",
    ),
    (('weekly = "24x7"', "weekly = 7"), "calendars.always.weekly", "must be a table, not int"),
    (
        ('weekly = "24x7"', 'wekly = "24x7"'),
        "calendars.always.wekly",
        "unknown key (expected: holiday_country, holiday_subdivision, holidays, timezone, weekly)",
    ),
    (('weekly = "24x7"', ""), "calendars.always.weekly", "missing"),
    (
        ('timezone = "America/Chicago"\nweekly', 'timezone = "America/Chicgo"\nweekly'),
        "calendars.always.timezone",
        "unknown time zone 'America/Chicgo'",
    ),
    (
        ('"2025-11-27", "2025-12-25"', '"2025-11-27", "Christmas"'),
        "calendars.business.holidays[1]",
        "'Christmas' is not a date like 2025-12-25",
    ),
    (
        ('holidays = ["2025-11-27", "2025-12-25"]', 'holidays = "2025-12-25"'),
        "calendars.business.holidays",
        'must be a list of dates, e.g. ["2025-12-25"]',
    ),
    (
        ('holidays = ["2025-11-27", "2025-12-25"]', 'holiday_country = "XX"'),
        "calendars.business.holiday_country",
        "Country XX not available",
    ),
    (
        (
            'holidays = ["2025-11-27", "2025-12-25"]',
            'holiday_country = "US"\nholiday_subdivision = "ZZ"',
        ),
        "calendars.business.holiday_subdivision",
        "Entity `US` does not have subdivision ZZ",
    ),
    (
        ('holidays = ["2025-11-27", "2025-12-25"]', 'holiday_subdivision = "TX"'),
        "calendars.business.holiday_subdivision",
        "needs holiday_country",
    ),
    (
        ('within = "240m"', 'within = "2d"'),
        "targets[0].within",
        "'2d': days are not accepted, their meaning is ambiguous (calendar days or business "
        'days?); write hours of business time, e.g. "9h" or "24h"',
    ),
    (
        ('within = "240m"', 'within = "1 days"'),
        "targets[0].within",
        "'1 days': days are not accepted",
    ),
    (
        ('within = "240m"', 'within = "4w"'),
        "targets[0].within",
        "'4w': unknown unit 'w' (use s, m or h)",
    ),
    (
        ('within = "240m"', 'within = "4.5h"'),
        "targets[0].within",
        "'4.5h': write a whole number and a unit s, m or h, e.g. \"4h\"",
    ),
    (
        ('within = "240m"', "within = 240"),
        "targets[0].within",
        '240: write a duration with its unit, e.g. "4h" or "240m"',
    ),
    (('within = "240m"', 'within = "0m"'), "targets[0].within", "'0m': must be more than zero"),
    (
        ('priority = "P1"', 'priority = "P5"'),
        "targets[0].priority",
        "'P5': must be one of P1, P2, P3, P4",
    ),
    (
        ('metric = "resolution"', 'metric = "resolve"'),
        "targets[0].metric",
        "'resolve': must be one of response, resolution",
    ),
    (
        ("pause_on_hold = true", 'pause_on_hold = "yes"'),
        "targets[0].pause_on_hold",
        "'yes': must be true or false",
    ),
    (("pause_on_hold = true", ""), "targets[0].pause_on_hold", "missing"),
    (
        ("pause_on_hold = true", "pause_on_hod = true"),
        "targets[0].pause_on_hod",
        "unknown key (expected: calendar, credit_allocation_percent, earn_back_goal, "
        "earn_back_months, goal, metric, pause_on_hold, priority, within)",
    ),
    (("goal = 0.95", "goal = 95"), "targets[0].goal", "95: must be a share from 0 to 1, e.g. 0.95"),
    (("goal = 0.95", "goal = true"), "targets[0].goal", "True: must be a share from 0 to 1"),
]


@pytest.mark.parametrize(("edit", "path", "message"), BAD)
def test_every_mistake_names_its_key(edit: tuple[str, str], path: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(edited(*edit))
    assert caught.value.path == path
    assert caught.value.reason.startswith(message)
    assert str(caught.value).startswith(f"{path}: {message}")


def test_a_duplicate_target_names_both() -> None:
    text = edited('priority = "P3"\nmetric = "response"', 'priority = "P1"\nmetric = "resolution"')
    with pytest.raises(
        PolicyError,
        match=r"^targets\[1\]: a second resolution target for P1 "
        r"\(the first is targets\[0\]\)$",
    ):
        parse_policy(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[calendars", "not valid TOML: "),
        ("", "calendars: missing"),
        ("calendars = {}\ntargets = []", "calendars: at least one calendar is required"),
        ('[calendars.a]\ntimezone = "UTC"\nweekly = "24x7"\n', "targets: missing"),
        (
            'targets = []\n[calendars.a]\ntimezone = "UTC"\nweekly = "24x7"\n',
            "targets: at least one [[targets]] table is required",
        ),
        ("credit = 1\n" + EXAMPLE, "credit: unknown key (expected: calendars, credits, targets)"),
        ("credits = 1\n" + EXAMPLE, "credits: must be a table, not int"),
        ("calendars = 3\ntargets = []", "calendars: must be a table, not int"),
    ],
)
def test_whole_document_mistakes(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert str(caught.value).startswith(message)
