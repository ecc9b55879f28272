"""Writing a policy as TOML: what the reader reads back is the policy written, exactly.

Two properties: ``parse(render(p)) == p`` for generated policies (calendars with DST zones,
holidays and country holidays, every optional target key, credit terms), and for TOML spelt
another way (smaller units, numbers unquoted, bare dates, weekly as a table of seven days)
``render(parse(text))`` reads back equal to ``parse(text)``.
"""

from __future__ import annotations

from decimal import Decimal
from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.calendar import ALL_DAY, WEEKDAYS, BusinessCalendar
from tandem.analytics.policy import (
    MAX_WITHIN_SECONDS,
    METRICS,
    PRIORITIES,
    CreditTerms,
    Policy,
    PolicyError,
    Target,
    parse_policy,
)
from tandem.analytics.policy_toml import decimal_text, render_policy, toml_string, within_text
from tandem.analytics.tests.strategies import calendars

NAMES = st.text(st.characters(codec="utf-8"), min_size=0, max_size=12) | st.sampled_from(
    ["business", "always", "after-hours", "Zürich office", 'a "quoted" one']
)
PERCENTS = st.decimals(min_value=Decimal("0.0001"), max_value=100, places=4)
SHARES = st.floats(min_value=0, max_value=1, allow_nan=False)


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    names = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    parsed = {name: draw(calendars()) for name in names}
    terms = draw(
        st.none()
        | st.builds(
            CreditTerms,
            st.decimals(min_value=0, allow_nan=False, allow_infinity=False)
            | st.decimals(min_value=0, max_value=10**9, places=2),
            st.from_regex(r"\A[A-Z]{3}\Z"),
            PERCENTS,
        )
    )
    keys = draw(
        st.lists(
            st.tuples(st.sampled_from(PRIORITIES), st.sampled_from(METRICS)),
            min_size=1,
            max_size=8,
            unique=True,
        )
    )
    targets = []
    for priority, metric in keys:
        goal = draw(st.none() | SHARES)
        allocation = months = earn_back_goal = None
        if terms is not None and goal is not None and draw(st.booleans()):
            # Eight targets of at most 12.5% each stay within the pool.
            allocation = draw(st.decimals(min_value=Decimal("0.0001"), max_value=12.5, places=4))
            if draw(st.booleans()):
                months = draw(st.integers(1, 24))
                earn_back_goal = draw(st.floats(min_value=goal, max_value=1))
        targets.append(
            Target(
                priority,
                metric,
                draw(st.sampled_from(names)),
                draw(st.integers(1, MAX_WITHIN_SECONDS)),
                draw(st.booleans()),
                goal,
                allocation,
                months,
                earn_back_goal,
            )
        )
    return Policy(MappingProxyType(parsed), tuple(targets), terms)


@settings(max_examples=300, deadline=None)
@given(policies())
def test_what_is_written_reads_back_as_the_same_policy(policy: Policy) -> None:
    text = render_policy(policy, header=["Written by a test", "second line"])
    again = parse_policy(text)
    assert again == policy
    assert list(again.calendars) == list(policy.calendars)  # the order written, too
    assert text.startswith("# Written by a test\n# second line\n")


@st.composite
def other_spellings(draw: st.DrawFn, policy: Policy) -> str:
    """The same policy written as a person might: other units, numbers, dates and tables."""
    lines = []
    for name, calendar in policy.calendars.items():
        lines.append(f"[calendars.{toml_string(name)}]")
        lines.append(f"timezone = {toml_string(calendar.timezone)}")
        if calendar.holiday_country:
            lines.append(f'holiday_country = "{calendar.holiday_country}"')
        if calendar.holiday_subdivision:
            lines.append(f'holiday_subdivision = "{calendar.holiday_subdivision}"')
        days = [d.isoformat() for d in calendar.holidays]
        empty_list: bool = draw(st.booleans())
        if days or empty_list:
            bare = draw(st.booleans())
            lines.append(f"holidays = [{', '.join(d if bare else repr(d) for d in days)}]")
        weekly = dict(zip(WEEKDAYS, calendar.weekly, strict=True))
        if all(w == (ALL_DAY,) for w in weekly.values()) and draw(st.booleans()):
            lines.append('weekly = "24x7"')
        else:
            cells = ", ".join(
                f"{day} = [{', '.join(repr(str(w)) for w in reversed(windows))}]"
                for day, windows in weekly.items()
                if windows or _coin(draw)
            )
            lines.append(f"weekly = {{ {cells} }}")
    if policy.credits is not None:
        fee = policy.credits.monthly_fee
        lines.append("[credits]")
        lines.append(f'monthly_fee = "{fee}"')
        lines.append(f'currency = "{policy.credits.currency}"')
        lines.append(f"at_risk_percent = '{policy.credits.at_risk_percent}'")
    for t in policy.targets:
        seconds = t.within_seconds
        unit = draw(st.sampled_from(["s", "m", "h"]))
        size = {"s": 1, "m": 60, "h": 3600}[unit]
        within = f"{seconds // size}{unit}" if seconds % size == 0 else f"{seconds}s"
        lines += [
            "[[targets]]",
            f"metric = '{t.metric}'",
            f"priority = '{t.priority}'",
            f"within = ' {within} '",
            f"calendar = {toml_string(t.calendar)}",
            f"pause_on_hold = {str(t.pause_on_hold).lower()}",
        ]
        if t.goal is not None:
            lines.append(f"goal = {int(t.goal) if t.goal in (0, 1) else repr(t.goal)}")
        if t.credit_allocation_percent is not None:
            allocation = t.credit_allocation_percent
            numeric = allocation == allocation.to_integral_value() and draw(st.booleans())
            written = int(allocation) if numeric else repr(str(allocation))
            lines.append(f"credit_allocation_percent = {written}")
        if t.earn_back_months is not None:
            lines.append(f"earn_back_months = {t.earn_back_months}")
            lines.append(f"earn_back_goal = {t.earn_back_goal!r}")
    return "\n".join(lines) + "\n"


def _coin(draw: st.DrawFn) -> bool:
    return draw(st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_toml_spelt_another_way_is_written_back_to_the_same_policy(data: st.DataObject) -> None:
    policy = data.draw(policies())
    text = data.draw(other_spellings(policy))
    read = parse_policy(text)
    assert read == policy
    assert parse_policy(render_policy(read)) == read


def test_the_writing_is_the_plain_one_people_read() -> None:
    text = """
[calendars.business]
timezone = "America/Chicago"
holidays = [2025-12-25, "2025-11-27"]
holiday_country = "US"
weekly = { mon = ["13:00-19:00", "07:00-12:00"], fri = ["08:00-17:00"] }
[calendars.always]
timezone = "UTC"
weekly = "24x7"
[credits]
monthly_fee = 125000
currency = "USD"
at_risk_percent = 12.5
[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "240m"
pause_on_hold = true
goal = 1
credit_allocation_percent = "20.50"
earn_back_months = 2
earn_back_goal = 1.0
"""
    assert render_policy(parse_policy(text)) == (
        "[calendars.business]\n"
        'timezone = "America/Chicago"\n'
        'holiday_country = "US"\n'
        'holidays = ["2025-11-27", "2025-12-25"]\n'
        "\n"
        "[calendars.business.weekly]\n"
        'mon = ["07:00-12:00", "13:00-19:00"]\n'
        "tue = []\n"
        "wed = []\n"
        "thu = []\n"
        'fri = ["08:00-17:00"]\n'
        "sat = []\n"
        "sun = []\n"
        "\n"
        "[calendars.always]\n"
        'timezone = "UTC"\n'
        'weekly = "24x7"\n'
        "\n"
        "[credits]\n"
        'monthly_fee = "125000"\n'
        'currency = "USD"\n'
        'at_risk_percent = "12.5"\n'
        "\n"
        "[[targets]]\n"
        'priority = "P1"\n'
        'metric = "resolution"\n'
        'calendar = "always"\n'
        'within = "4h"\n'
        "pause_on_hold = true\n"
        "goal = 1.0\n"
        'credit_allocation_percent = "20.50"\n'
        "earn_back_months = 2\n"
        "earn_back_goal = 1.0\n"
    )


def test_small_pieces() -> None:
    assert [within_text(s) for s in (14400, 5400, 45, 3600 * 24)] == ["4h", "90m", "45s", "24h"]
    assert decimal_text(Decimal("1E+3")) == "1000"
    assert decimal_text(Decimal("1E+400")) == "1E+400"  # exact, and not 400 zeros
    assert toml_string('a"b\\c\nd\x01\x7f') == '"a\\"b\\\\c\\nd\\u0001\\u007F"'


def test_a_within_past_ten_years_is_refused_by_the_reader() -> None:
    text = render_policy(
        Policy(
            MappingProxyType({"always": BusinessCalendar("UTC", ((ALL_DAY,),) * 7)}),
            (Target("P1", "response", "always", MAX_WITHIN_SECONDS, False),),
        )
    )
    assert parse_policy(text).targets[0].within_seconds == MAX_WITHIN_SECONDS
    for within in ("87841h", "99999999999999999999999h", "316224001s"):
        try:
            parse_policy(text.replace('within = "87840h"', f'within = "{within}"'))
        except PolicyError as exc:
            assert exc.path == "targets[0].within" and "at most ten years" in exc.reason
        else:
            raise AssertionError(f"{within} was accepted")
