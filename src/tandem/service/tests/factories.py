"""factory_boy factories for the service models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import factory

from tandem.core.testing.factories import EngagementFactory
from tandem.service.choices import GroupSide, ImportFormat, ImportStatus, Priority, TicketKind
from tandem.service.models import AssignmentGroupSide, ImportBatch, Ticket, TicketHold

OPENED = datetime(2025, 3, 3, 14, 0, tzinfo=UTC)


class ImportBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImportBatch

    engagement = factory.SubFactory(EngagementFactory)
    file_name = factory.Sequence(lambda n: f"incidents-{n}.csv")
    format = ImportFormat.GENERIC
    time_zone = "America/Chicago"
    status = ImportStatus.IMPORTED


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    engagement = factory.SubFactory(EngagementFactory)
    batch = factory.SubFactory(ImportBatchFactory, engagement=factory.SelfAttribute("..engagement"))
    ticket_id = factory.Sequence(lambda n: f"INC{n:07d}")
    kind = TicketKind.INCIDENT
    priority = Priority.P3
    priority_raw = "3 - Moderate"
    opened_at = OPENED
    responded_at = OPENED + timedelta(minutes=20)
    resolved_at = OPENED + timedelta(hours=5)
    assignment_group = "Service Desk"
    category = "Software"


class TicketHoldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TicketHold

    ticket = factory.SubFactory(TicketFactory)
    engagement = factory.SelfAttribute("ticket.engagement")
    start = OPENED + timedelta(hours=1)
    end = OPENED + timedelta(hours=2)


class AssignmentGroupSideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AssignmentGroupSide

    engagement = factory.SubFactory(EngagementFactory)
    assignment_group = factory.Sequence(lambda n: f"Group {n}")
    side = GroupSide.CLIENT
