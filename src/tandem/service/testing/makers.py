"""Access-test makers for the service app's engagement-scoped models.

None of them has an ``owner_lookup``: tickets, imports, group sides, SLA policies, runs and
their results are shared engagement data, seen by every party (vendor privacy does not apply).
"""

from __future__ import annotations

from tandem.core.models import Engagement, Organization
from tandem.core.testing.registry import register
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
from tandem.service.tests.factories import (
    AssignmentGroupSideFactory,
    ImportBatchFactory,
    ServiceCreditFactory,
    SlaAggregateFactory,
    SlaMeasurementFactory,
    SlaPolicyFactory,
    SlaRunFactory,
    TicketFactory,
    TicketHoldFactory,
)


@register(ImportBatch, add_page="service:import_upload")
def make_import_batch(engagement: Engagement, owner: Organization) -> ImportBatch:
    return ImportBatchFactory(engagement=engagement)


@register(Ticket)
def make_ticket(engagement: Engagement, owner: Organization) -> Ticket:
    return TicketFactory(engagement=engagement)


@register(TicketHold)
def make_ticket_hold(engagement: Engagement, owner: Organization) -> TicketHold:
    return TicketHoldFactory(ticket=TicketFactory(engagement=engagement))


@register(AssignmentGroupSide)
def make_assignment_group_side(engagement: Engagement, owner: Organization) -> AssignmentGroupSide:
    return AssignmentGroupSideFactory(engagement=engagement)


@register(SlaPolicy)
def make_sla_policy(engagement: Engagement, owner: Organization) -> SlaPolicy:
    return SlaPolicyFactory(engagement=engagement)


@register(SlaRun, add_page="service:slarun_start")
def make_sla_run(engagement: Engagement, owner: Organization) -> SlaRun:
    return SlaRunFactory(engagement=engagement)


@register(SlaMeasurement)
def make_sla_measurement(engagement: Engagement, owner: Organization) -> SlaMeasurement:
    return SlaMeasurementFactory(run=SlaRunFactory(engagement=engagement))


@register(SlaAggregate)
def make_sla_aggregate(engagement: Engagement, owner: Organization) -> SlaAggregate:
    return SlaAggregateFactory(run=SlaRunFactory(engagement=engagement))


@register(ServiceCredit)
def make_service_credit(engagement: Engagement, owner: Organization) -> ServiceCredit:
    return ServiceCreditFactory(run=SlaRunFactory(engagement=engagement))
