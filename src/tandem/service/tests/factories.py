"""factory_boy factories for the service models."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import factory

from tandem.core.testing.factories import EngagementFactory
from tandem.service.choices import (
    AggregateLevel,
    GroupSide,
    ImportFormat,
    ImportStatus,
    MeasuredSide,
    Metric,
    Priority,
    RunStatus,
    TicketKind,
)
from tandem.service.models import (
    AssignmentGroupSide,
    ImportBatch,
    ServiceCredit,
    SlaAggregate,
    SlaMeasurement,
    SlaPolicy,
    SlaRun,
    Ticket,
    TicketHold,
)
from tandem.service.sla_runs import next_number

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


#: A small valid policy: P1-P4 resolution in a 24x7 calendar, P1 response, credits.
POLICY_TOML = """\
[calendars.always]
timezone = "America/Chicago"
weekly = "24x7"

[credits]
monthly_fee = "50000.00"
currency = "USD"
at_risk_percent = "10"

[[targets]]
priority = "P1"
metric = "response"
calendar = "always"
within = "15m"
pause_on_hold = false
goal = 0.95
credit_allocation_percent = "20"

[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "4h"
pause_on_hold = true
goal = 0.95
credit_allocation_percent = "30"

[[targets]]
priority = "P3"
metric = "resolution"
calendar = "always"
within = "72h"
pause_on_hold = true
goal = 0.9
credit_allocation_percent = "10"
"""


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    engagement = factory.SubFactory(EngagementFactory)
    version = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Service levels, schedule {n}")
    effective_from = factory.Sequence(lambda n: date(2020 + n // 12, n % 12 + 1, 1))
    source = POLICY_TOML


class SlaRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaRun

    engagement = factory.SubFactory(EngagementFactory)
    # The engagement's next number, as ``sla_runs.create_run`` gives it.
    number = factory.LazyAttribute(lambda run: next_number(run.engagement))
    status = RunStatus.DONE
    as_of = datetime(2025, 4, 1, tzinfo=UTC)
    time_zone = "America/Chicago"
    started_at = datetime(2025, 4, 1, 1, tzinfo=UTC)
    finished_at = datetime(2025, 4, 1, 1, 2, tzinfo=UTC)


class SlaMeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaMeasurement

    run = factory.SubFactory(SlaRunFactory)
    engagement = factory.SelfAttribute("run.engagement")
    ticket = factory.SubFactory(TicketFactory, engagement=factory.SelfAttribute("..engagement"))
    ticket_number = factory.SelfAttribute("ticket.ticket_id")
    metric = Metric.RESOLUTION
    priority = Priority.P3
    assignment_group = "Service Desk"
    side = MeasuredSide.CLIENT
    month = date(2025, 3, 1)
    policy_version = 1
    elapsed_seconds = 18_000
    target_seconds = 259_200
    met = True


class SlaAggregateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaAggregate

    run = factory.SubFactory(SlaRunFactory)
    engagement = factory.SelfAttribute("run.engagement")
    level = AggregateLevel.PRIORITY
    month = date(2025, 3, 1)
    metric = Metric.RESOLUTION
    priority = Priority.P3
    count = 20
    met = 19
    goal = Decimal("0.9")
    median_seconds = 18_000
    p90_seconds = 86_400


class ServiceCreditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceCredit

    run = factory.SubFactory(SlaRunFactory)
    engagement = factory.SelfAttribute("run.engagement")
    month = date(2025, 3, 1)
    metric = Metric.RESOLUTION
    priority = Priority.P1
    policy_version = 1
    count = 10
    met = 8
    goal = Decimal("0.95")
    missed = True
    allocation_percent = Decimal("30")
    currency = "USD"
    credit = Decimal("1500.00")
    capped = Decimal("1500.00")
    due = Decimal("1500.00")
