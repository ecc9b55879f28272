"""One FilterSet per model, shared by the UI lists and the API (explicit ``<fk>_id`` filters)."""

from __future__ import annotations

import django_filters

from tandem.contracts.choices import (
    ContractKind,
    ContractStatus,
    PricingModel,
    RenewalType,
    ScopeCategory,
)
from tandem.contracts.models import Contract, ContractDocument, ScopeItem
from tandem.core.filtersets import IdFilter, SearchFilterSet


class ContractFilterSet(SearchFilterSet):
    search_fields = ("title", "termination_rights", "vendor__name")
    engagement_id = IdFilter(field_name="engagement_id")
    vendor_id = IdFilter(field_name="vendor_id")
    parent_id = IdFilter(field_name="parent_id")
    kind = django_filters.MultipleChoiceFilter(choices=ContractKind.choices)
    status = django_filters.MultipleChoiceFilter(choices=ContractStatus.choices)
    renewal_type = django_filters.MultipleChoiceFilter(choices=RenewalType.choices)
    handles_phi = django_filters.BooleanFilter()
    currency = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Contract
        fields = [
            "engagement_id",
            "vendor_id",
            "parent_id",
            "kind",
            "status",
            "renewal_type",
            "handles_phi",
            "currency",
        ]


class ScopeItemFilterSet(SearchFilterSet):
    search_fields = ("name", "application", "inclusions", "exclusions")
    engagement_id = IdFilter(field_name="engagement_id")
    contract_id = IdFilter(field_name="contract_id")
    category = django_filters.MultipleChoiceFilter(choices=ScopeCategory.choices)
    pricing_model = django_filters.MultipleChoiceFilter(choices=PricingModel.choices)
    application = django_filters.CharFilter(lookup_expr="icontains")
    coverage_calendar = django_filters.CharFilter()

    class Meta:
        model = ScopeItem
        fields = [
            "engagement_id",
            "contract_id",
            "category",
            "pricing_model",
            "application",
            "coverage_calendar",
        ]


class ContractDocumentFilterSet(SearchFilterSet):
    search_fields = ("title", "note", "original_name")
    engagement_id = IdFilter(field_name="engagement_id")
    contract_id = IdFilter(field_name="contract_id")
    title = django_filters.CharFilter()
    sha256 = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = ContractDocument
        fields = ["engagement_id", "contract_id", "title", "sha256"]
