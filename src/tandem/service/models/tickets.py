"""Imported service-desk tickets, their hold intervals, the imports that wrote them, and
which side (client team or vendor) works each assignment group.

Tickets and holds are bulk data (``EngagementBulkModel``): written only by
``tandem.service.services.import_tickets``, many thousands at a time, and audited once per
import on the ``ImportBatch`` rather than once per row. Instants are stored in UTC, exactly
as the canonical frames of ``tandem.analytics.frames`` carry them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from tandem.core.choices import OrganizationKind
from tandem.core.models import EngagementBulkModel, EngagementParty, EngagementScopedModel
from tandem.core.models.organizations import validate_time_zone
from tandem.ingest.validation import TEXT_LENGTHS
from tandem.service.choices import GroupSide, ImportFormat, ImportStatus, Priority, TicketKind


class ImportBatch(EngagementScopedModel):
    """One import of a service-desk export into an engagement: what was read, how, by whom,
    and what it changed. Written by the import service only (one audit record per import)."""

    file_name = models.CharField(max_length=255)
    format = models.CharField(max_length=20, choices=ImportFormat.choices)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="How timestamps without an offset were read.",
    )
    mapping = models.JSONField(
        default=dict, blank=True, help_text="Column mapping used: canonical name → file column."
    )
    keep_text = models.BooleanField(
        default=False, help_text="Free text (short descriptions) kept; off by default."
    )
    rows_read = models.PositiveIntegerField(default=0)
    tickets_created = models.PositiveIntegerField(default=0)
    tickets_updated = models.PositiveIntegerField(default=0)
    holds_imported = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    error = models.TextField(blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_imports",
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    # A record of what happened: nobody edits or deletes it through the UI or the API.
    writable = False

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = "ticket import"
        verbose_name_plural = "ticket imports"
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="%(app_label)s_%(class)s_finishes_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} (import {self.pk})"

    def get_absolute_url(self) -> str:
        return reverse("service:importbatch_detail", args=[self.pk])

    @property
    def tickets_written(self) -> int:
        return self.tickets_created + self.tickets_updated


class Ticket(EngagementBulkModel):
    """One service-desk ticket as last imported: the canonical ticket row, in UTC.

    Text fields the export left empty are stored as "" (and read back as null).
    """

    # the lengths the readers check every value against (tandem.ingest.validation)
    ticket_id = models.CharField(
        max_length=TEXT_LENGTHS["ticket_id"], help_text="The tool's number, e.g. INC0010001."
    )
    kind = models.CharField(max_length=10, choices=TicketKind.choices, default=TicketKind.INCIDENT)
    priority = models.CharField(max_length=2, choices=Priority.choices, null=True, blank=True)
    priority_raw = models.CharField(max_length=TEXT_LENGTHS["priority_raw"], blank=True)
    opened_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    assignment_group = models.CharField(max_length=TEXT_LENGTHS["assignment_group"], blank=True)
    category = models.CharField(max_length=TEXT_LENGTHS["category"], blank=True)
    reassignment_count = models.PositiveIntegerField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(null=True, blank=True)
    short_description = models.TextField(
        blank=True, help_text="Kept only when the import opted in: it may hold patient data."
    )
    # Not indexed on its own: the unique (engagement, ticket_id) and the (engagement,
    # opened_at) indexes below both start with it and serve every lookup by engagement.
    # No database constraint (ADR 0002): an import holds a key-share lock on the engagement
    # row for its whole transaction and every engagement deletion takes FOR UPDATE on it
    # first, so the deletion's collector sees every ticket an import committed; Django
    # applies CASCADE itself.
    engagement = models.ForeignKey(
        "core.Engagement",
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)ss",
        db_index=False,
        db_constraint=False,
    )
    # The import that last wrote this ticket (indexed by the foreign key: "what did this
    # import touch" and the hold replacement of the next import of the same tickets).
    # RESTRICT, not PROTECT: an import cannot be deleted while tickets point to it, but
    # deleting the engagement takes both. No database constraint (ADR 0002): the import
    # service, the only writer, sets it to the batch it has just created, and Django
    # applies RESTRICT itself.
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.RESTRICT, related_name="tickets", db_constraint=False
    )

    class Meta:
        ordering = ["-opened_at", "ticket_id"]
        verbose_name = "ticket"
        constraints = [
            # Also the index of every lookup by number and the conflict target of re-imports.
            models.UniqueConstraint(
                fields=["engagement", "ticket_id"],
                name="%(app_label)s_%(class)s_unique_id_per_engagement",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=F("opened_at")),
                name="%(app_label)s_%(class)s_resolved_after_opened",
            ),
            models.CheckConstraint(
                condition=Q(priority__isnull=True) | Q(priority__in=Priority.values),
                name="%(app_label)s_%(class)s_priority_valid",
            ),
        ]
        indexes = [
            # Month slicing: SLA runs, dashboards and the list page read one engagement's
            # tickets by opening time (newest first by default).
            models.Index(fields=["engagement", "opened_at"], name="service_ticket_opened"),
        ]

    def __str__(self) -> str:
        return self.ticket_id

    def get_absolute_url(self) -> str:
        return reverse("service:ticket_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class TicketHold(EngagementBulkModel):
    """One interval a ticket spent on hold (awaiting the caller, a vendor, a change...)."""

    # Indexed (the SLA engine's read and the list); no database constraint, for the reason
    # and with the lock given on ``Ticket.engagement`` (ADR 0002).
    engagement = models.ForeignKey(
        "core.Engagement",
        on_delete=models.CASCADE,
        related_name="%(app_label)s_%(class)ss",
        db_constraint=False,
    )
    # No database constraint (ADR 0002): the import service, the only writer, inserts holds
    # only for the tickets it has just written, and Django's own CASCADE removes them with
    # their ticket.
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="holds", db_index=False, db_constraint=False
    )
    start = models.DateTimeField()
    end = models.DateTimeField(null=True, blank=True, help_text="Empty: still on hold.")

    class Meta:
        ordering = ["start", "pk"]
        verbose_name = "ticket hold"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__isnull=True) | Q(end__gte=F("start")),
                name="%(app_label)s_%(class)s_ends_after_start",
            ),
        ]
        indexes = [
            # A ticket's holds (its page, the SLA run's join) and the delete-then-insert
            # replacement of a re-imported ticket's holds.
            models.Index(fields=["ticket", "start"], name="service_tickethold_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket} on hold from {self.start:%Y-%m-%d %H:%M} UTC"

    def get_absolute_url(self) -> str:
        return reverse("service:tickethold_detail", args=[self.pk])


class AssignmentGroupSide(EngagementScopedModel):
    """Which side works an assignment group's tickets: the client's own team or a vendor.

    Shared engagement data (no ``owner_lookup``): both sides must agree on it for parity
    figures to mean anything, so every party sees every mapping.
    """

    # Terms: how a party is measured. Only the client's sponsor and IT lead change them.
    scope_area = "terms"

    assignment_group = models.CharField(max_length=200)
    side = models.CharField(max_length=10, choices=GroupSide.choices)
    vendor = models.ForeignKey(
        "core.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assignment_group_sides",
        help_text="The vendor working this group (a vendor party of the engagement).",
    )

    class Meta:
        ordering = ["engagement", "assignment_group"]
        verbose_name = "assignment group side"
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "assignment_group"],
                name="%(app_label)s_%(class)s_one_side_per_group",
            ),
            models.CheckConstraint(
                condition=Q(vendor__isnull=True) | Q(side=GroupSide.VENDOR),
                name="%(app_label)s_%(class)s_vendor_only_on_vendor_side",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assignment_group} → {self.get_side_display()}"

    def get_absolute_url(self) -> str:
        return reverse("service:assignmentgroupside_detail", args=[self.pk])

    def clean(self) -> None:
        if self.vendor_id is None:
            return
        if self.side != GroupSide.VENDOR:
            raise ValidationError({"vendor": "Name a vendor only for a group the vendor works."})
        is_party = EngagementParty.objects.filter(
            engagement_id=self.engagement_id,
            organization_id=self.vendor_id,
            organization__kind=OrganizationKind.VENDOR,
        ).exists()
        if not is_party:
            raise ValidationError({"vendor": "Choose a vendor taking part in this engagement."})
