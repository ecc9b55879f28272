"""Engagements, their parties and the roles people hold in them."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models, router, transaction
from django.db.models import F, Q
from django.urls import reverse

from tandem.core.access import RestrictedQuerySet
from tandem.core.choices import (
    CLIENT_KINDS,
    ROLE_SIDES,
    EngagementKind,
    OrganizationKind,
    Phase,
    Role,
    Side,
    phases_for,
)
from tandem.core.models.base import ChangeLoggedModel, EngagementScopedModel
from tandem.core.models.organizations import validate_time_zone

currency_code = RegexValidator(
    r"^[A-Z]{3}$", "Use a three-letter ISO 4217 currency code such as USD.", "invalid_currency"
)


class EngagementQuerySet(RestrictedQuerySet):
    """The restricted queryset, whose ``delete()`` (the admin's bulk delete) locks first."""

    def delete(self) -> tuple[int, dict[str, int]]:
        with transaction.atomic(using=self.db):
            pks = lock_for_deletion(
                self.model._base_manager.using(self.db).filter(pk__in=self.values("pk"))
            )
            bulk = delete_bulk_data(pks, self.db)
            deleted, counts = super().delete()
            return _with_bulk(deleted, counts, bulk)

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


def lock_for_deletion(engagements: models.QuerySet) -> list[int]:
    """``SELECT ... FOR UPDATE`` on the engagement rows about to be deleted, in pk order.

    Tickets and holds have no database foreign key to their engagement (ADR 0002). An
    import holds ``FOR KEY SHARE`` on its engagement's row until it commits, so this waits
    for every running import into these engagements; what Django's deletion collector then
    lists (each statement of READ COMMITTED sees what committed before it) includes every
    ticket and hold they wrote. An import that starts meanwhile waits for the deletion and
    then finds its engagement gone. Call inside the deleting transaction. SQLite has one
    writer at a time and no row locks: there Django leaves out ``FOR UPDATE``. Returns the
    locked engagements' pks.
    """
    return list(engagements.order_by("pk").select_for_update().values_list("pk", flat=True))


def delete_bulk_data(engagement_pks: list[int], using: str) -> dict[str, int]:
    """Delete the bulk data (``EngagementBulkModel`` tables: tickets, holds, measurements,
    aggregates, credits) of these engagements with one ``DELETE`` per table, before Django's
    collector would list every row in Python (a million tickets, each with its holds). The
    tables have no delete receivers (they are audited per import and run, not per row) and
    nothing but each other refers to them, so this deletes exactly what the cascade would.
    Call inside the deleting transaction, after ``lock_for_deletion``. Returns the counts
    per model label, as ``delete()`` does."""
    from tandem.core.models.base import EngagementBulkModel

    counts: dict[str, int] = {}
    if not engagement_pks:
        return counts
    for model in apps.get_models():
        if issubclass(model, EngagementBulkModel) and not model._meta.proxy:
            rows = model._base_manager.using(using).filter(engagement_id__in=engagement_pks)
            deleted = rows._raw_delete(using)  # type: ignore[attr-defined]
            if deleted:
                counts[model._meta.label] = deleted
    return counts


def _with_bulk(
    deleted: int, counts: dict[str, int], bulk: dict[str, int]
) -> tuple[int, dict[str, int]]:
    merged = dict(counts)
    for label, count in bulk.items():
        merged[label] = merged.get(label, 0) + count
    return deleted + sum(bulk.values()), merged


class Engagement(ChangeLoggedModel):
    """One partnership: a client organization, its vendors, a kind and a life-cycle phase."""

    name = models.CharField(max_length=200)
    client = models.ForeignKey(
        "core.Organization", on_delete=models.PROTECT, related_name="client_engagements"
    )
    kind = models.CharField(max_length=20, choices=EngagementKind.choices)
    phase = models.CharField(max_length=24, choices=Phase.choices, default=Phase.EXPLORE)
    time_zone = models.CharField(
        max_length=64,
        default="America/Chicago",
        validators=[validate_time_zone],
        help_text="Times are stored in UTC and shown in this zone.",
    )
    currency = models.CharField(max_length=3, default="USD", validators=[currency_code])
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    description = models.TextField(blank=True, max_length=5000)

    scope_area = "engagement"
    engagement_lookup = "pk"
    owner_lookup = None
    # Moving to another phase is the sponsor's decision (the table's "approve"), not an edit.
    approval_fields = ("phase",)

    objects = EngagementQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "engagement"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="%(app_label)s_%(class)s_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["client", "name"], name="%(app_label)s_%(class)s_unique_name_per_client"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:engagement_detail", args=[self.pk])

    def audit_engagement_id(self) -> int | None:
        return self.pk

    def delete(self, using: str | None = None, keep_parents: bool = False) -> tuple[int, dict]:
        """Delete the engagement and, by Django's cascade, everything in it; first wait for
        any import into it to commit (``lock_for_deletion``), then delete its bulk data
        table by table (``delete_bulk_data``)."""
        using = using or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using):
            bulk: dict[str, int] = {}
            if self.pk is not None:
                lock_for_deletion(type(self)._base_manager.using(using).filter(pk=self.pk))
                bulk = delete_bulk_data([self.pk], using)
            deleted, counts = super().delete(using=using, keep_parents=keep_parents)
            return _with_bulk(deleted, counts, bulk)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.phase and self.kind and self.phase not in phases_for(self.kind):
            allowed = ", ".join(str(p.label) for p in phases_for(self.kind))
            kind = str(self.get_kind_display())
            article = "An" if kind[0].lower() in "aeiou" else "A"
            errors["phase"] = f"{article} {kind} engagement moves through: {allowed}."
        if self.client_id and self.client.kind not in CLIENT_KINDS:
            errors["client"] = "The client must be a health system, hospital or practice."
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = "The end date is before the start date."
        if errors:
            raise ValidationError(errors)

    @property
    def phases(self) -> tuple[Phase, ...]:
        return phases_for(self.kind)

    @property
    def next_phase(self) -> Phase | None:
        phases = self.phases
        try:
            index = phases.index(Phase(self.phase))
        except ValueError:
            return None
        return phases[index + 1] if index + 1 < len(phases) else None


class EngagementParty(EngagementScopedModel):
    """An organization taking part in an engagement, on the client, vendor or advisor side."""

    organization = models.ForeignKey(
        "core.Organization", on_delete=models.PROTECT, related_name="engagement_parties"
    )
    side = models.CharField(max_length=10, choices=Side.choices)
    scope_summary = models.CharField(
        max_length=300, blank=True, help_text="What this party does here, in a line."
    )

    scope_area = "people"
    owner_lookup = "organization"

    class Meta:
        ordering = ["engagement", "side", "organization__name"]
        verbose_name = "engagement party"
        verbose_name_plural = "engagement parties"
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "organization"],
                name="%(app_label)s_%(class)s_one_party_per_organization",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} ({self.get_side_display()})"

    def get_absolute_url(self) -> str:
        return reverse("core:engagementparty_detail", args=[self.pk])

    def clean(self) -> None:
        if not self.organization_id or not self.side:
            return
        kind = self.organization.kind
        if self.side == Side.VENDOR and kind != OrganizationKind.VENDOR:
            raise ValidationError({"side": "Only a vendor organization can be a vendor party."})
        if self.side == Side.CLIENT and kind not in CLIENT_KINDS:
            raise ValidationError(
                {"side": "Only a health system, hospital or practice can be a client party."}
            )
        if self.side == Side.ADVISOR and kind != OrganizationKind.ADVISOR:
            raise ValidationError({"side": "Only an advisor organization can be an advisor."})


class RoleAssignment(EngagementScopedModel):
    """A person's role in an engagement: the only source of access to it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    note = models.CharField(max_length=300, blank=True)

    scope_area = "people"
    owner_lookup = "user__organization"

    class Meta:
        ordering = ["engagement", "role", "user__full_name"]
        verbose_name = "role assignment"
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "user", "role"],
                name="%(app_label)s_%(class)s_one_role_once",
            ),
        ]
        # The access check runs on every request: look up by user first.
        indexes = [models.Index(fields=["user", "role"], name="core_role_user_role_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"

    def get_absolute_url(self) -> str:
        return reverse("core:roleassignment_detail", args=[self.pk])

    def clean(self) -> None:
        if not (self.user_id and self.engagement_id and self.role):
            return
        organization_id = self.user.organization_id
        party = EngagementParty.objects.filter(
            engagement_id=self.engagement_id, organization_id=organization_id
        ).first()
        if party is None:
            raise ValidationError(
                {"user": f"{self.user}'s organization is not a party to this engagement."}
            )
        if party.side not in ROLE_SIDES[self.role]:
            raise ValidationError(
                {
                    "role": f"A {self.get_role_display()} role is held from the "
                    f"{' or '.join(sorted(ROLE_SIDES[self.role]))} side; "
                    f"{party.organization} is on the {party.side} side."
                }
            )
