"""factory_boy factories of the contracts app."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.core.files.base import ContentFile

from tandem.contracts.choices import ContractKind, ContractStatus, PricingModel, ScopeCategory
from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.core.choices import Side
from tandem.core.models import EngagementParty
from tandem.core.testing.factories import EngagementFactory, VendorFactory

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def vendor_party(engagement, vendor):
    EngagementParty.objects.get_or_create(
        engagement=engagement, organization=vendor, defaults={"side": Side.VENDOR}
    )
    return vendor


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    engagement = factory.SubFactory(EngagementFactory)
    kind = ContractKind.MASTER
    title = factory.Sequence(lambda n: f"Managed services agreement {n}")
    vendor = factory.LazyAttribute(lambda o: vendor_party(o.engagement, VendorFactory()))
    term_start = date(2025, 1, 1)
    term_end = date(2027, 12, 31)
    notice_period_days = 90
    total_value = Decimal("1500000.00")
    monthly_fee = Decimal("42000.00")
    status = ContractStatus.DRAFT


class ScopeItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScopeItem

    contract = factory.SubFactory(ContractFactory)
    engagement = factory.SelfAttribute("contract.engagement")
    category = ScopeCategory.DESK_TIER_1
    name = factory.Sequence(lambda n: f"Service desk {n}")
    pricing_model = PricingModel.PER_TICKET
    unit_price = Decimal("18.50")
    tickets_per_month = 1200


class ContractDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContractDocument

    contract = factory.SubFactory(ContractFactory)
    engagement = factory.SelfAttribute("contract.engagement")
    title = factory.Sequence(lambda n: f"Signed agreement {n}")
    content_type = "application/pdf"
    original_name = "agreement.pdf"
    size = len(PDF_BYTES)
    sha256 = "0" * 64
    file = factory.LazyFunction(lambda: ContentFile(PDF_BYTES, name="agreement.pdf"))
