"""A contract's monthly charge from its scope items: hand-computed cases, and a property test
against a slow obvious oracle (exact fractions, one branch per pricing model)."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.contract_charges import (
    ChargeLine,
    PricingModel,
    line_charge,
    monthly_charge,
)


def test_each_pricing_model_by_hand() -> None:
    lines = [
        ChargeLine("desk", PricingModel.FIXED_MONTHLY, Decimal("42000.00")),
        ChargeLine("tickets", PricingModel.PER_TICKET, Decimal("18.50"), tickets_per_month=1200),
        ChargeLine("users", PricingModel.PER_USER, Decimal("3.25"), users=4000),
        ChargeLine("devices", PricingModel.PER_DEVICE, Decimal("1.10"), devices=2500),
        ChargeLine("hours", PricingModel.HOURLY, Decimal("95.00"), quantity=Decimal("120.5")),
        ChargeLine("go-live", PricingModel.MILESTONE, Decimal("60000.00")),
    ]
    charge = monthly_charge(lines)
    by_key = {line.key: line for line in charge.lines}
    assert by_key["tickets"].monthly == Decimal("22200.00")
    assert by_key["users"].monthly == Decimal("13000.00")
    assert by_key["devices"].monthly == Decimal("2750.00")
    assert by_key["hours"].monthly == Decimal("11447.500")
    assert by_key["go-live"].monthly is None
    assert by_key["go-live"].milestone == Decimal("60000.00")
    assert charge.total == Decimal("91397.50")
    assert charge.milestone_total == Decimal("60000.00")
    assert [line.key for line in charge.milestones] == ["go-live"]
    assert charge.incomplete == ()


def test_a_missing_volume_adds_nothing_and_is_listed() -> None:
    charge = monthly_charge(
        [
            ChargeLine("a", PricingModel.PER_TICKET, Decimal("10")),
            ChargeLine("b", PricingModel.FIXED_MONTHLY, Decimal("5")),
        ]
    )
    assert charge.total == Decimal("5")
    assert [line.key for line in charge.incomplete] == ["a"]


def test_no_lines_cost_nothing() -> None:
    charge = monthly_charge([])
    assert charge.total == Decimal(0) and charge.milestone_total == Decimal(0)


def test_huge_amounts_stay_exact() -> None:
    price = Decimal("999999999999.99")
    line = ChargeLine("x", PricingModel.HOURLY, price, quantity=Decimal("999999999999.99"))
    assert line_charge(line).monthly == price * price  # would round at 28 digits


money = st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2)
count = st.one_of(st.none(), st.integers(min_value=1, max_value=10_000_000))
amount = st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2))
lines = st.lists(
    st.builds(
        ChargeLine,
        key=st.uuids(),
        pricing_model=st.sampled_from(list(PricingModel)),
        unit_price=money,
        quantity=amount,
        users=count,
        devices=count,
        tickets_per_month=count,
    ),
    max_size=30,
)


def _oracle(items: list[ChargeLine]) -> tuple[Fraction, Fraction]:
    """Slow and obvious: exact fractions, one branch per model."""
    monthly = Fraction(0)
    once = Fraction(0)
    for item in items:
        price = Fraction(item.unit_price)
        if item.pricing_model == PricingModel.FIXED_MONTHLY:
            monthly += price
        elif item.pricing_model == PricingModel.PER_TICKET:
            if item.tickets_per_month is not None:
                monthly += price * item.tickets_per_month
        elif item.pricing_model == PricingModel.PER_USER:
            if item.users is not None:
                monthly += price * item.users
        elif item.pricing_model == PricingModel.PER_DEVICE:
            if item.devices is not None:
                monthly += price * item.devices
        elif item.pricing_model == PricingModel.HOURLY:
            if item.quantity is not None:
                monthly += price * Fraction(item.quantity)
        else:
            once += price * (Fraction(1) if item.quantity is None else Fraction(item.quantity))
    return monthly, once


@settings(max_examples=300, deadline=None)
@given(lines)
def test_matches_the_oracle(items: list[ChargeLine]) -> None:
    charge = monthly_charge(items)
    monthly, once = _oracle(items)
    assert Fraction(charge.total) == monthly
    assert Fraction(charge.milestone_total) == once
    assert isinstance(charge.total, Decimal)
    # Every line is there, in order; the total is the sum of the monthly lines.
    assert [line.key for line in charge.lines] == [item.key for item in items]
    assert sum((line.monthly or Decimal(0) for line in charge.lines), Decimal(0)) == charge.total
    assert all((line.monthly is None) or line.monthly >= 0 for line in charge.lines)


@settings(max_examples=100, deadline=None)
@given(lines, lines)
def test_adding_lines_adds_their_charges(first: list[ChargeLine], second: list[ChargeLine]) -> None:
    both = monthly_charge(first + second)
    assert both.total == monthly_charge(first).total + monthly_charge(second).total
