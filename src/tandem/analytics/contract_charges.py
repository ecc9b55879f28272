"""A contract's monthly charge, derived from its scope items (the service catalog).

Pure and exact: amounts are ``Decimal`` and every product and sum is computed without
rounding (a local context wide enough for any stored amount, with ``Inexact`` trapped), so
the charge shown on a contract is the sum of its lines to the cent and beyond.

Per pricing model, what one catalog entry costs a month:

- fixed monthly: the unit price;
- per ticket: unit price x tickets per month;
- per user per month: unit price x users;
- per device per month: unit price x devices;
- hourly: unit price x quantity (the expected hours a month);
- milestone: not monthly; listed apart with its amount (unit price x quantity, quantity
  one when not given), never in the monthly total.

An entry whose volume is missing (a per-ticket price without tickets per month) adds
nothing and is listed as incomplete, so a half-filled catalog never inflates the charge.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from enum import StrEnum

__all__ = [
    "ChargeLine",
    "LineCharge",
    "MonthlyCharge",
    "PricingModel",
    "line_charge",
    "monthly_charge",
]

# Wide enough that no product or sum of stored amounts (14 digits) and volumes is rounded.
_PRECISION = 200


class PricingModel(StrEnum):
    FIXED_MONTHLY = "fixed_monthly"
    PER_TICKET = "per_ticket"
    PER_USER = "per_user"
    PER_DEVICE = "per_device"
    HOURLY = "hourly"
    MILESTONE = "milestone"


@dataclass(frozen=True)
class ChargeLine:
    """One catalog entry as the charge sees it. ``key`` identifies it in the result."""

    key: Hashable
    pricing_model: PricingModel
    unit_price: Decimal
    quantity: Decimal | None = None
    users: int | None = None
    devices: int | None = None
    tickets_per_month: int | None = None


@dataclass(frozen=True)
class LineCharge:
    """What one entry costs: ``monthly`` (None for a milestone or an incomplete entry),
    ``milestone`` (a one-off amount, None otherwise) and whether a volume was missing."""

    key: Hashable
    pricing_model: PricingModel
    monthly: Decimal | None
    milestone: Decimal | None = None
    incomplete: bool = False


@dataclass(frozen=True)
class MonthlyCharge:
    total: Decimal
    lines: tuple[LineCharge, ...]
    milestone_total: Decimal

    @property
    def milestones(self) -> tuple[LineCharge, ...]:
        return tuple(line for line in self.lines if line.milestone is not None)

    @property
    def incomplete(self) -> tuple[LineCharge, ...]:
        return tuple(line for line in self.lines if line.incomplete)


def _volume(line: ChargeLine) -> Decimal | int | None:
    model = PricingModel(line.pricing_model)
    if model is PricingModel.PER_TICKET:
        return line.tickets_per_month
    if model is PricingModel.PER_USER:
        return line.users
    if model is PricingModel.PER_DEVICE:
        return line.devices
    if model is PricingModel.HOURLY:
        return line.quantity
    return None


def line_charge(line: ChargeLine) -> LineCharge:
    """What ``line`` costs (see the module's rules)."""
    model = PricingModel(line.pricing_model)
    with localcontext() as context:
        context.prec = _PRECISION
        context.traps[Inexact] = True
        price = Decimal(line.unit_price)
        if model is PricingModel.FIXED_MONTHLY:
            return LineCharge(line.key, model, +price)
        if model is PricingModel.MILESTONE:
            quantity = Decimal(1) if line.quantity is None else Decimal(line.quantity)
            return LineCharge(line.key, model, None, milestone=price * quantity)
        volume = _volume(line)
        if volume is None:
            return LineCharge(line.key, model, None, incomplete=True)
        return LineCharge(line.key, model, price * Decimal(volume))


def monthly_charge(lines: Iterable[ChargeLine]) -> MonthlyCharge:
    """The monthly total of ``lines``, each line's charge, and the milestones apart."""
    charges = tuple(line_charge(line) for line in lines)
    with localcontext() as context:
        context.prec = _PRECISION
        context.traps[Inexact] = True
        total = sum((c.monthly for c in charges if c.monthly is not None), Decimal(0))
        milestones = sum((c.milestone for c in charges if c.milestone is not None), Decimal(0))
    return MonthlyCharge(total=total, lines=charges, milestone_total=milestones)
