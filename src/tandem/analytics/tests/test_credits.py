"""Service credits: the policy's [credits] terms, hand-computed lines, and the invariants
(never above the pool, nothing owed when every goal is met, earn-back only ever waives,
money is Decimal from end to end)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from types import MappingProxyType

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.calendar import ALL_DAY, BusinessCalendar
from tandem.analytics.credits import CREDITS, credit_totals, credits, earn_back
from tandem.analytics.policy import CreditTerms, Policy, PolicyError, Target, parse_policy

HEAD = """
[calendars.always]
timezone = "America/Chicago"
weekly = "24x7"
"""
TERMS = """
[credits]
monthly_fee = "125000.00"
currency = "USD"
at_risk_percent = 12
"""
TARGETS = """
[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "4h"
pause_on_hold = true
goal = 0.95
credit_allocation_percent = 25
earn_back_months = 2
earn_back_goal = 0.97
[[targets]]
priority = "P1"
metric = "response"
calendar = "always"
within = "15m"
pause_on_hold = false
goal = 0.9
credit_allocation_percent = 10
[[targets]]
priority = "P2"
metric = "resolution"
calendar = "always"
within = "8h"
pause_on_hold = true
goal = 0.9
"""
POLICY = parse_policy(HEAD + TERMS + TARGETS)


def monthly(rows: list[tuple[date, str, str, int, int]]) -> pl.DataFrame:
    """``(month, metric, priority, count, met)`` as attainment() returns them."""
    schema = {"month": pl.Date, "metric": pl.String, "priority": pl.String}
    frame = pl.DataFrame(rows, schema=schema | {"count": pl.UInt32, "met": pl.UInt32}, orient="row")
    return frame.with_columns((pl.col("met") / pl.col("count")).alias("attainment"))


def month(n: int) -> date:
    return date(2025, n, 1)


def test_the_policy_reads_credit_terms_exactly() -> None:
    assert POLICY.credits == CreditTerms(Decimal("125000.00"), "USD", Decimal(12))
    first, second, third = POLICY.targets
    assert (first.credit_allocation_percent, first.earn_back_months, first.earn_back_goal) == (
        Decimal(25),
        2,
        0.97,
    )
    assert second.credit_allocation_percent == Decimal(10) and second.earn_back_months is None
    assert third.credit_allocation_percent is None
    numbers = parse_policy(HEAD + TERMS.replace('"125000.00"', "125000.1") + TARGETS)
    assert numbers.credits is not None
    assert numbers.credits.monthly_fee == Decimal("125000.1")  # not 125000.10000000000582
    hash(POLICY)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"125000.00"', '"lots"', "credits.monthly_fee: 'lots': not a number"),
        ('"125000.00"', '"-1"', "credits.monthly_fee: '-1': must not be negative"),
        ('"125000.00"', '"NaN"', "credits.monthly_fee: 'NaN': must be a finite number"),
        ('"USD"', '"usd"', "credits.currency: 'usd': write an ISO 4217 code"),
        ("at_risk_percent = 12", "at_risk_percent = 0", "credits.at_risk_percent: 0: must be"),
        ("at_risk_percent = 12", "at_risk_percent = 101", "credits.at_risk_percent: 101:"),
        ("at_risk_percent = 12", 'at_risk_percent = "12.00001"', "at most 4 decimal places"),
        ("at_risk_percent = 12", "at_risk_percent = true", "credits.at_risk_percent: True:"),
        ('currency = "USD"', 'currency = "USD"\nfee = 1', "credits.fee: unknown key"),
        ('currency = "USD"\n', "", "credits.currency: missing"),
    ],
)
def test_credit_term_mistakes_name_their_key(old: str, new: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(")):
        parse_policy(HEAD + TERMS.replace(old, new) + TARGETS)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("allocation_percent = 25", "allocation_percent = 0", "targets[0].credit_allocation_p"),
        ("earn_back_months = 2", "earn_back_months = 0", "targets[0].earn_back_months: 0:"),
        ("earn_back_months = 2", "earn_back_months = 1.5", "targets[0].earn_back_months: 1.5"),
        ("earn_back_months = 2\n", "", "targets[0].earn_back_months: missing"),
        ("earn_back_goal = 0.97\n", "", "targets[0].earn_back_goal: missing"),
        ("earn_back_goal = 0.97", "earn_back_goal = 0.9", "targets[0].earn_back_goal: 0.9 is"),
        ("goal = 0.9\ncredit_allocation_percent = 10", "credit_allocation_percent = 10", "goal"),
        (
            "allocation_percent = 25\nearn_back_months = 2\nearn_back_goal = 0.97",
            "allocation_percent = 95",
            "targets: credit allocations add up to 105%, above the pool limit of 100%: "
            "targets[0] (P1 resolution) 95%, targets[1] (P1 response) 10%",
        ),
    ],
)
def test_allocation_mistakes_name_their_targets(old: str, new: str, message: str) -> None:
    assert old in TARGETS
    with pytest.raises(PolicyError) as caught:
        parse_policy(HEAD + TERMS + TARGETS.replace(old, new, 1))
    assert message in str(caught.value)


def test_allocations_need_the_credits_table() -> None:
    with pytest.raises(PolicyError, match=r"targets\[0\].credit_allocation_percent: needs a"):
        parse_policy(HEAD + TARGETS)


def test_earn_back_without_an_allocation_is_refused() -> None:
    text = TARGETS.replace("credit_allocation_percent = 25\n", "")
    with pytest.raises(PolicyError, match="earn_back_months: needs credit_allocation_percent"):
        parse_policy(HEAD + TERMS + text)


def test_credit_lines_by_hand() -> None:
    rows = monthly(
        [
            (month(1), "resolution", "P1", 20, 19),  # 95% exactly: meets 0.95
            (month(2), "resolution", "P1", 20, 18),  # missed; Mar 97%, Apr 98%: earned back
            (month(2), "response", "P1", 10, 8),  # missed, no earn-back
            (month(2), "resolution", "P2", 10, 0),  # no allocation: no line
            (month(3), "resolution", "P1", 100, 97),
            (month(4), "resolution", "P1", 50, 49),
            (month(5), "resolution", "P1", 10, 9),  # missed; June ok but no July: stays due
            (month(6), "resolution", "P1", 10, 10),
        ]
    )
    lines = credits(rows, POLICY)
    assert lines.schema == pl.Schema(CREDITS)
    # fee 125,000.00 × 12% = 15,000.00 pool; × 25% = 3,750.00; × 10% = 1,500.00.
    zero, full, response = Decimal("0.00"), Decimal("3750.00"), Decimal("1500.00")
    shown = lines.select(
        "month", "metric", "count", "met", "missed", "credit", "capped", "earn_back_until"
    ).with_columns(earned=lines["earned_back"], due=lines["due"])
    assert shown.rows() == [
        (month(1), "resolution", 20, 19, False, zero, zero, None, False, zero),
        (month(2), "resolution", 20, 18, True, full, full, month(4), True, zero),
        (month(2), "response", 10, 8, True, response, response, None, False, response),
        (month(3), "resolution", 100, 97, False, zero, zero, None, False, zero),
        (month(4), "resolution", 50, 49, False, zero, zero, None, False, zero),
        (month(5), "resolution", 10, 9, True, full, full, month(7), False, full),
        (month(6), "resolution", 10, 10, False, zero, zero, None, False, zero),
    ]
    assert set(lines["currency"]) == {"USD"}
    assert credit_totals(lines).filter(pl.col("month") == month(2)).rows() == [
        (month(2), "USD", Decimal("5250.00"), Decimal("5250.00"), Decimal("1500.00"))
    ]


def test_an_earn_back_month_below_its_goal_keeps_the_credit() -> None:
    rows = monthly(
        [
            (month(11), "resolution", "P1", 10, 9),
            (month(12), "resolution", "P1", 100, 99),
            (date(2026, 1, 1), "resolution", "P1", 100, 96),  # 96% < 97%
        ]
    )
    line = credits(rows, POLICY).row(0, named=True)
    assert (line["earn_back_until"], line["earned_back"]) == (date(2026, 1, 1), False)
    assert line["due"] == Decimal("3750.00")


def test_lines_round_half_up_to_cents() -> None:
    # 100.10 × 5% = 5.005: half-up is 5.01 (half-even would say 5.00).
    text = (
        HEAD + TERMS + TARGETS.replace("= 25\nearn_back_months = 2\nearn_back_goal = 0.97", "= 90")
    )
    text = text.replace('"125000.00"', '"100.10"').replace(
        "at_risk_percent = 12", "at_risk_percent = 5"
    )
    lines = credits(monthly([(month(1), "resolution", "P1", 2, 1)]), parse_policy(text))
    assert lines["credit"].to_list() == [Decimal("4.50")]  # 4.5045
    text = text.replace("= 90", "= 100").replace("credit_allocation_percent = 10\n", "")
    lines = credits(monthly([(month(1), "resolution", "P1", 2, 1)]), parse_policy(text))
    assert lines["credit"].to_list() == [Decimal("5.01")]


def test_the_pool_caps_a_month_in_target_order() -> None:
    # Allocations above 100% cannot come from TOML; a policy built in code can still ask.
    policy = dataclasses.replace(
        POLICY,
        targets=tuple(
            dataclasses.replace(t, credit_allocation_percent=Decimal(60), earn_back_months=None)
            for t in POLICY.targets[:2]
        ),
    )
    rows = monthly([(month(1), "resolution", "P1", 2, 1), (month(1), "response", "P1", 2, 1)])
    lines = credits(rows, policy)
    assert lines["credit"].to_list() == [Decimal("9000.00")] * 2
    assert lines["capped"].to_list() == [Decimal("9000.00"), Decimal("6000.00")]  # pool 15,000


def test_no_terms_no_lines() -> None:
    plain = parse_policy(
        HEAD
        + TARGETS.replace("credit_allocation_percent = 25\n", "")
        .replace("earn_back_months = 2\nearn_back_goal = 0.97\n", "")
        .replace("credit_allocation_percent = 10\n", "")
    )
    assert credits(monthly([(month(1), "resolution", "P1", 2, 1)]), plain).is_empty()


CALENDAR = BusinessCalendar("UTC", ((ALL_DAY,),) * 7, frozenset(), None, None)
GOALS = [0.5, 0.9, 0.95, 1.0]


@st.composite
def contracts(draw: st.DrawFn) -> tuple[Policy, pl.DataFrame]:
    """A policy built in code (allocations may exceed 100%, to exercise the cap) and months."""
    keys = [("P1", "response"), ("P1", "resolution"), ("P2", "resolution")]
    targets = []
    for priority, metric in draw(
        st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)
    ):
        goal = draw(st.sampled_from(GOALS))
        earn_back = draw(st.one_of(st.none(), st.integers(1, 3)))
        targets.append(
            Target(
                priority,
                metric,
                "always",
                3600,
                True,
                goal,
                Decimal(draw(st.integers(1, 10_000))) / 100,
                earn_back,
                None
                if earn_back is None
                else draw(st.sampled_from([g for g in GOALS if g >= goal])),
            )
        )
    terms = CreditTerms(
        Decimal(draw(st.integers(0, 10**9))) / 100, "EUR", Decimal(draw(st.integers(1, 100)))
    )
    policy = Policy(MappingProxyType({"always": CALENDAR}), tuple(targets), terms)
    rows = []
    for priority, metric in keys:
        for n in draw(st.sets(st.integers(1, 12), max_size=8)):
            count = draw(st.integers(1, 40))
            rows.append((month(n), metric, priority, count, draw(st.integers(0, count))))
    return policy, monthly(rows)


@settings(max_examples=150)
@given(contracts())
def test_credit_invariants(contract: tuple[Policy, pl.DataFrame]) -> None:
    policy, rows = contract
    assert policy.credits is not None
    pool = (policy.credits.monthly_fee * policy.credits.at_risk_percent / 100).quantize(
        Decimal("0.01"), rounding="ROUND_HALF_UP"
    )
    lines = credits(rows, policy)
    for column in ("credit", "capped", "due"):
        assert isinstance(lines.schema[column], pl.Decimal)
        assert all(isinstance(v, Decimal) for v in lines[column])
    for total in credit_totals(lines).iter_rows(named=True):
        assert total["capped"] <= pool and total["due"] <= total["capped"] <= total["credit"]
    assert ((lines["credit"] == 0) | lines["missed"]).all()

    perfect = credits(rows.with_columns(met=pl.col("count"), attainment=pl.lit(1.0)), policy)
    assert (perfect["due"] == 0).all() and (perfect["credit"] == 0).all()

    without = dataclasses.replace(
        policy,
        targets=tuple(
            dataclasses.replace(t, earn_back_months=None, earn_back_goal=None)
            for t in policy.targets
        ),
    )
    plain = credits(rows, without)
    assert plain["capped"].to_list() == lines["capped"].to_list()
    assert all(a <= b for a, b in zip(lines["due"], plain["due"], strict=True))


# Earn-back explained -----------------------------------------------------------------------


def test_earn_back_says_which_months_met_which_goal() -> None:
    attainment = {month(2): (50, 49), month(3): (40, 38)}  # 98 %, then 95 %
    window = earn_back(month(1), months=2, goal=0.97, attainment=attainment)
    assert [m.month for m in window.window] == [month(2), month(3)]
    assert [m.reached for m in window.window] == [True, False]
    assert window.until == month(3) and not window.earned
    assert window.short == (window.window[1],) and window.missing == ()
    assert window.window[0].attainment == pytest.approx(0.98)
    # The goal read as written: 97 of 100 reaches 0.97 exactly.
    assert earn_back(month(1), months=1, goal=0.97, attainment={month(2): (100, 97)}).earned


def test_an_empty_window_month_is_missing_not_reached() -> None:
    window = earn_back(month(11), months=2, goal=0.9, attainment={month(12): (10, 10)})
    assert window.until == date(2026, 1, 1)
    assert [m.reached for m in window.window] == [True, False]
    assert [m.month for m in window.missing] == [date(2026, 1, 1)]
    with pytest.raises(ValueError, match="at least 1"):
        earn_back(month(1), months=0, goal=0.9, attainment={})


@settings(max_examples=150)
@given(contracts())
def test_earn_back_explains_every_credit_line(contract: tuple[Policy, pl.DataFrame]) -> None:
    """Each missed line's ``earned_back`` and ``earn_back_until`` are exactly what
    ``earn_back`` says of the months after it: earned iff every window month has clocks and
    ``met / count >= goal``."""
    policy, rows = contract
    lines = credits(rows, policy)
    targets = {(t.metric, t.priority): t for t in policy.targets}
    by_key: dict[tuple[str, str], dict[date, tuple[int, int]]] = {}
    for when, metric, priority, count, met in rows.select(
        "month", "metric", "priority", "count", "met"
    ).iter_rows():
        by_key.setdefault((metric, priority), {})[when] = (count, met)
    for line in lines.iter_rows(named=True):
        target = targets[(line["metric"], line["priority"])]
        if not line["missed"] or target.earn_back_months is None:
            assert line["earn_back_until"] is None and not line["earned_back"]
            continue
        assert target.earn_back_goal is not None
        window = earn_back(
            line["month"],
            months=target.earn_back_months,
            goal=target.earn_back_goal,
            attainment=by_key[(line["metric"], line["priority"])],
        )
        assert len(window.window) == target.earn_back_months
        assert line["earn_back_until"] == window.until
        assert line["earned_back"] == window.earned
        by_hand = all(
            m.count > 0 and m.met * 10**6 >= round(target.earn_back_goal * 10**6) * m.count
            for m in window.window
        )
        assert window.earned == by_hand
        assert window.earned == (not window.missing and not window.short)
        if window.earned:
            assert line["due"] == 0
