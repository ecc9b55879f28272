"""Organizations: hospitals, health systems, practices, vendors and advisors."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from tandem.core.access import can_add_anywhere, engagement_ids_for, vendor_privacy_filter
from tandem.core.choices import Action, OrganizationKind, SizeUnit
from tandem.core.models.base import ChangeLoggedModel


def validate_time_zone(value: str) -> None:
    if value not in _TIME_ZONES:
        raise ValidationError(
            "%(value)s is not a known IANA time zone (for example America/Chicago).",
            params={"value": value},
            code="invalid_time_zone",
        )


_TIME_ZONES = frozenset(available_timezones())
TIME_ZONE_CHOICES = sorted((tz, tz) for tz in _TIME_ZONES if "/" in tz or tz == "UTC")


class Organization(ChangeLoggedModel):
    """A hospital, health system, practice, vendor or advisor; every person belongs to one."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=OrganizationKind.choices)
    time_zone = models.CharField(
        max_length=64, default="America/Chicago", validators=[validate_time_zone]
    )
    size = models.PositiveIntegerField(
        null=True,
        blank=True,
        # The same bound on every database (SQLite would take 64-bit values, PostgreSQL not).
        validators=[MaxValueValidator(1_000_000)],
        help_text="Beds for a hospital, providers for a practice.",
    )
    size_unit = models.CharField(max_length=20, choices=SizeUnit.choices, blank=True)
    website = models.URLField(blank=True)
    notes = models.TextField(blank=True, max_length=5000)

    engagement_lookup = None

    class Meta:
        ordering = ["name"]
        verbose_name = "organization"
        constraints = [
            models.CheckConstraint(
                condition=Q(size__isnull=True) | ~Q(size_unit=""),
                name="%(app_label)s_%(class)s_size_has_unit",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:organization_detail", args=[self.pk])

    def clean(self) -> None:
        if self.size is not None and not self.size_unit:
            raise ValidationError({"size_unit": "Say what the size counts (beds, providers…)."})

    @property
    def is_vendor(self) -> bool:
        return self.kind == OrganizationKind.VENDOR

    @staticmethod
    def restrict_unscoped(queryset: Any, user: Any, action: str) -> Any:
        """People see their own organization and the parties of their engagements.

        Whoever may add parties somewhere also sees the vendor and advisor directory, so an
        IT lead can bring a new vendor in; vendors never see other vendors (privacy filter).
        """
        from tandem.core.models.engagements import EngagementParty

        if action != Action.VIEW:
            return queryset.none()
        visible = Q(pk=user.organization_id) | Q(
            engagement_parties__engagement__in=engagement_ids_for(user, "people", Action.VIEW)
        )
        if can_add_anywhere(user, EngagementParty):
            visible |= Q(kind__in=[OrganizationKind.VENDOR, OrganizationKind.ADVISOR])
        return queryset.filter(visible).filter(vendor_privacy_filter(user, "self")).distinct()
