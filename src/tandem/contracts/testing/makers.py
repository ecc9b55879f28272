"""Access-test makers for the contracts app: every row belongs to its contract's vendor
(``owner_lookup``), so another vendor of the engagement never sees it."""

from __future__ import annotations

from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.contracts.tests.factories import (
    ContractDocumentFactory,
    ContractFactory,
    ScopeItemFactory,
    vendor_party,
)
from tandem.core.choices import OrganizationKind
from tandem.core.models import Engagement, EngagementParty, Organization
from tandem.core.testing.factories import VendorFactory
from tandem.core.testing.registry import register


def _contract(engagement: Engagement, owner: Organization) -> Contract:
    """A contract with ``owner`` when it is a vendor; for the client (the matrix's default
    owner) with the engagement's first vendor party, whose people then read it."""
    vendor = owner if owner.is_vendor else _first_vendor(engagement)
    return ContractFactory(engagement=engagement, vendor=vendor_party(engagement, vendor))


def _first_vendor(engagement: Engagement) -> Organization:
    party = (
        EngagementParty.objects.filter(
            engagement=engagement, organization__kind=OrganizationKind.VENDOR
        )
        .order_by("organization_id")
        .select_related("organization")
        .first()
    )
    return party.organization if party is not None else VendorFactory()


@register(Contract)
def make_contract(engagement: Engagement, owner: Organization) -> Contract:
    return _contract(engagement, owner)


@register(ScopeItem)
def make_scope_item(engagement: Engagement, owner: Organization) -> ScopeItem:
    return ScopeItemFactory(contract=_contract(engagement, owner))


@register(ContractDocument)
def make_contract_document(engagement: Engagement, owner: Organization) -> ContractDocument:
    return ContractDocumentFactory(contract=_contract(engagement, owner))
