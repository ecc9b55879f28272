"""The service catalog: what a contract covers, at what price (reused later by sourcing)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from tandem.analytics.contract_charges import ChargeLine
from tandem.analytics.contract_charges import PricingModel as Pricing
from tandem.contracts.choices import PricingModel, ScopeCategory
from tandem.contracts.models.contracts import MONEY, NOT_NEGATIVE
from tandem.core.models import EngagementScopedModel

# The same bound on every database (SQLite would take 64-bit values, PostgreSQL not).
POSITIVE = [
    MinValueValidator(1, "Give a positive number, or leave it empty."),
    MaxValueValidator(100_000_000, "At most 100,000,000."),
]

# The volume each pricing model multiplies the unit price by (fixed and milestone: none).
VOLUME_FIELD = {
    PricingModel.PER_TICKET: "tickets_per_month",
    PricingModel.PER_USER: "users",
    PricingModel.PER_DEVICE: "devices",
    PricingModel.HOURLY: "quantity",
}


class ScopeItem(EngagementScopedModel):
    """One entry of a contract's service catalog: a service, what it includes and excludes,
    its coverage hours, volumes and price. The contract's monthly charge is the sum of its
    entries (``tandem.analytics.contract_charges``)."""

    scope_area = "terms"
    owner_lookup = "contract__vendor"

    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.CASCADE, related_name="scope_items"
    )
    category = models.CharField(max_length=16, choices=ScopeCategory.choices)
    name = models.CharField(max_length=200)
    application = models.CharField(
        max_length=200, blank=True, help_text="The application or system served, if one."
    )
    inclusions = models.TextField(blank=True)
    exclusions = models.TextField(blank=True)
    coverage_calendar = models.CharField(
        max_length=100,
        blank=True,
        help_text="A calendar of the engagement's SLA policy naming the coverage hours.",
    )
    users = models.PositiveIntegerField(null=True, blank=True, validators=POSITIVE)
    devices = models.PositiveIntegerField(null=True, blank=True, validators=POSITIVE)
    tickets_per_month = models.PositiveIntegerField(null=True, blank=True, validators=POSITIVE)
    pricing_model = models.CharField(max_length=16, choices=PricingModel.choices)
    unit_price = models.DecimalField(**MONEY, default=0, validators=NOT_NEGATIVE)
    quantity = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=NOT_NEGATIVE,
        help_text="Expected hours a month (hourly) or units of a milestone.",
    )

    class Meta:
        ordering = ["contract", "category", "name", "pk"]
        verbose_name = "scope item"
        constraints = [
            models.CheckConstraint(
                condition=Q(unit_price__gte=0) & (Q(quantity__isnull=True) | Q(quantity__gte=0)),
                name="%(app_label)s_%(class)s_money_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("contracts:scopeitem_detail", args=[self.pk])

    @property
    def currency(self) -> str:
        return self.contract.currency

    def charge_line(self) -> ChargeLine:
        return ChargeLine(
            key=self.pk,
            pricing_model=Pricing(self.pricing_model),
            unit_price=self.unit_price if self.unit_price is not None else Decimal(0),
            quantity=self.quantity,
            users=self.users,
            devices=self.devices,
            tickets_per_month=self.tickets_per_month,
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.contract_id is not None:
            self.engagement_id = self.contract.engagement_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.contract_id is not None
            and self.engagement_id is not None
            and self.contract.engagement_id != self.engagement_id
        ):
            errors["contract"] = "Choose a contract of this engagement."
        volume = VOLUME_FIELD.get(self.pricing_model)
        if volume is not None and getattr(self, volume) is None:
            label = self._meta.get_field(volume).verbose_name
            errors[volume] = (
                f"A {PricingModel(self.pricing_model).label.lower()} price needs the {label}."
            )
        if self.coverage_calendar and self.engagement_id is not None:
            refusal = calendar_refusal(self.engagement_id, self.coverage_calendar)
            if refusal:
                errors["coverage_calendar"] = refusal
        if errors:
            raise ValidationError(errors)


def calendar_refusal(engagement_id: int, name: str) -> str:
    """Why ``name`` is no calendar of the engagement's latest SLA policy ("" when it is, or
    when the engagement has no policy yet to check against)."""
    from tandem.analytics.policy import PolicyError
    from tandem.service.models import SlaPolicy

    policy = SlaPolicy.objects.filter(engagement_id=engagement_id).order_by("-version").first()
    if policy is None:
        return ""
    try:
        calendars = sorted(policy.parsed().calendars)
    except PolicyError:
        return ""
    if name in calendars:
        return ""
    return (
        f"{name[:100]} is no calendar of SLA policy version {policy.version}; "
        f"its calendars: {', '.join(calendars)}."
    )
