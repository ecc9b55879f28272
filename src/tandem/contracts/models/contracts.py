"""A contract between the client and one vendor of an engagement."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from tandem.contracts.choices import (
    ACTIVATION_ONLY,
    ENDED,
    TRANSITIONS,
    ContractKind,
    ContractStatus,
    RenewalType,
)
from tandem.core.choices import OrganizationKind
from tandem.core.models import EngagementParty, EngagementScopedModel
from tandem.core.models.engagements import currency_code

MONEY = {"max_digits": 14, "decimal_places": 2}
# Where a new contract may start: active, expiring and the final statuses come later.
INITIAL = (ContractStatus.DRAFT, ContractStatus.NEGOTIATION, ContractStatus.SIGNED)
NOT_NEGATIVE = [MinValueValidator(0, "An amount cannot be negative.")]


def iso_currency(value: str) -> None:
    """An active ISO 4217 code (a typo such as "USS" passes the three-letter rule)."""
    from tandem.core.forms import ISO_4217

    if value and value not in ISO_4217:
        raise ValidationError(
            "%(code)s is not an ISO 4217 currency code (for example USD or EUR).",
            params={"code": value},
            code="invalid_currency",
        )


class Contract(EngagementScopedModel):
    """A master agreement, statement of work, BAA, amendment or transition services
    agreement between the engagement's client and one of its vendors.

    Terms (``scope_area = "terms"``): only the client's sponsor and IT lead change them; the
    vendor and observers read. A vendor sees only its own contracts (``owner_lookup``).
    """

    scope_area = "terms"
    owner_lookup = "vendor"

    kind = models.CharField(max_length=12, choices=ContractKind.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="amendments",
        help_text="The contract an amendment amends (amendments only).",
    )
    title = models.CharField(max_length=200)
    vendor = models.ForeignKey(
        "core.Organization",
        on_delete=models.PROTECT,
        related_name="contracts",
        help_text="The vendor party of the engagement this contract binds.",
    )
    term_start = models.DateField(null=True, blank=True)
    term_end = models.DateField(null=True, blank=True)
    renewal_type = models.CharField(
        max_length=10, choices=RenewalType.choices, default=RenewalType.NONE
    )
    notice_period_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        # The same bound on every database (SQLite would take 64-bit values, PostgreSQL not).
        validators=[MaxValueValidator(36_500, "At most 36,500 days (100 years).")],
        help_text="Days of notice to end or not renew the contract.",
    )
    termination_rights = models.TextField(blank=True)
    total_value = models.DecimalField(**MONEY, default=0, validators=NOT_NEGATIVE)
    monthly_fee = models.DecimalField(**MONEY, default=0, validators=NOT_NEGATIVE)
    currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[currency_code, iso_currency],
        help_text="ISO 4217 code; empty: the engagement's currency.",
    )
    status = models.CharField(
        max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT
    )
    client_signatory_name = models.CharField(max_length=200, blank=True)
    client_signatory_title = models.CharField(max_length=200, blank=True)
    vendor_signatory_name = models.CharField(max_length=200, blank=True)
    vendor_signatory_title = models.CharField(max_length=200, blank=True)
    signed_date = models.DateField(null=True, blank=True)
    handles_phi = models.BooleanField(
        "vendor handles PHI",
        default=False,
        help_text="The vendor creates, receives, keeps or sends protected health information.",
    )

    class Meta:
        ordering = ["engagement", "title", "pk"]
        verbose_name = "contract"
        constraints = [
            models.CheckConstraint(
                condition=Q(total_value__gte=0) & Q(monthly_fee__gte=0),
                name="%(app_label)s_%(class)s_money_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(term_start__isnull=True)
                | Q(term_end__isnull=True)
                | Q(term_end__gt=models.F("term_start")),
                name="%(app_label)s_%(class)s_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | Q(kind=ContractKind.AMENDMENT),
                name="%(app_label)s_%(class)s_parent_only_for_amendments",
            ),
        ]

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, *, fetch_mode: Any = None) -> Contract:
        instance = super().from_db(db, field_names, values, fetch_mode=fetch_mode)
        instance._loaded = {
            "status": instance.__dict__.get("status"),
            "parent_id": instance.__dict__.get("parent_id"),
        }
        return instance

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("contracts:contract_detail", args=[self.pk])

    @property
    def stored_status(self) -> str | None:
        """The status as last read from the database (None for a new contract)."""
        loaded = getattr(self, "_loaded", None)
        return loaded["status"] if loaded else None

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.currency and self.engagement_id is not None:
            self.currency = self.engagement.currency
        super().save(*args, **kwargs)
        self._loaded = {"status": self.status, "parent_id": self.parent_id}

    # --- status ------------------------------------------------------------------------------

    def next_statuses(self) -> list[str]:
        """Where the status may move from here by editing (activation is its own action)."""
        current = self.stored_status or ContractStatus.DRAFT
        return [s for s in ContractStatus.values if s in TRANSITIONS[current]]

    def next_status_labels(self) -> list[str]:
        return [str(ContractStatus(s).label).lower() for s in self.next_statuses()]

    def status_refusal(self, status: str) -> str:
        """Why the status may not move from the stored one to ``status`` ("" when it may)."""
        current = self.stored_status
        if current is None:  # a draft, under negotiation, or one signed before Tandem knew it
            if status in INITIAL:
                return ""
            return (
                "A new contract starts as a draft, under negotiation or signed (an active one "
                "is activated from there)."
            )
        if status == current:
            return ""
        if status in ACTIVATION_ONLY:
            return (
                "A contract becomes active only through its activation, which checks its "
                "service levels (and a signed BAA when the vendor handles PHI)."
            )
        if status not in TRANSITIONS[current]:
            allowed = ", ".join(ContractStatus(s).label for s in self.next_statuses()) or "none"
            return (
                f"A {ContractStatus(current).label.lower()} contract cannot become "
                f"{ContractStatus(status).label.lower()} (it may become: {allowed})."
            )
        return ""

    def move_to(self, status: str) -> None:
        """Move to ``status`` and save, or raise a ``ValidationError`` naming ``status``."""
        refusal = self.status_refusal(status)
        if refusal:
            raise ValidationError({"status": refusal})
        self.status = status
        self.full_clean()
        self.save()

    # --- rules ------------------------------------------------------------------------------

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.status:
            refusal = self.status_refusal(self.status)
            if refusal:
                errors["status"] = refusal
        if self.term_start and self.term_end and self.term_end <= self.term_start:
            errors["term_end"] = "The term ends after it starts."
        if self.notice_period_days is not None and self.term_start and self.term_end:
            term_days = (self.term_end - self.term_start).days
            if self.notice_period_days > term_days:
                errors["notice_period_days"] = (
                    f"A notice period of {self.notice_period_days} days is longer than the "
                    f"term ({term_days} days)."
                )
        if self.signed_date and self.status in (ContractStatus.DRAFT, ContractStatus.NEGOTIATION):
            errors["signed_date"] = "A draft or a contract under negotiation is not signed yet."
        self._clean_vendor(errors)
        self._clean_parent(errors)
        if errors:
            raise ValidationError(errors)

    def _clean_vendor(self, errors: dict[str, str]) -> None:
        if self.vendor_id is None or self.engagement_id is None:
            return
        is_party = EngagementParty.objects.filter(
            engagement_id=self.engagement_id,
            organization_id=self.vendor_id,
            organization__kind=OrganizationKind.VENDOR,
        ).exists()
        if not is_party:
            errors["vendor"] = "Choose a vendor taking part in this engagement."

    def _clean_parent(self, errors: dict[str, str]) -> None:
        if self.kind == ContractKind.AMENDMENT and self.parent_id is None:
            errors["parent"] = "An amendment names the contract it amends."
            return
        if self.kind != ContractKind.AMENDMENT:
            if self.parent_id is not None:
                errors["parent"] = "Only an amendment amends another contract."
            return
        parent = self.parent
        if self.pk is not None and parent.pk == self.pk:
            errors["parent"] = "A contract cannot amend itself."
        elif parent.engagement_id != self.engagement_id:
            errors["parent"] = "Choose a contract of this engagement."
        elif self.vendor_id is not None and parent.vendor_id != self.vendor_id:
            errors["parent"] = "An amendment binds the same vendor as the contract it amends."
        else:
            loaded = getattr(self, "_loaded", None)
            newly_linked = loaded is None or loaded["parent_id"] != self.parent_id
            if newly_linked and parent.status in ENDED:
                errors["parent"] = (
                    f"“{parent}” is {parent.get_status_display().lower()}: an ended "
                    "contract cannot be amended."
                )
