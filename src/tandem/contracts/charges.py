"""A contract's monthly charge, read from its scope items (the math is in
``tandem.analytics.contract_charges``)."""

from __future__ import annotations

from collections.abc import Iterable

from tandem.analytics.contract_charges import MonthlyCharge, monthly_charge
from tandem.contracts.models import Contract, ScopeItem


def charge_of(items: Iterable[ScopeItem]) -> MonthlyCharge:
    return monthly_charge(item.charge_line() for item in items)


def contract_charge(contract: Contract) -> MonthlyCharge:
    """Every scope item of ``contract`` counts (the charge is a term of the contract, the
    same whoever reads it)."""
    return charge_of(ScopeItem.objects.filter(contract=contract).order_by("pk"))
