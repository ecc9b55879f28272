"""Access-test makers for the service app's engagement-scoped models.

None of them has an ``owner_lookup``: tickets, imports and group sides are shared
engagement data, seen by every party (vendor privacy does not apply).
"""

from __future__ import annotations

from tandem.core.models import Engagement, Organization
from tandem.core.testing.registry import register
from tandem.service.models import AssignmentGroupSide, ImportBatch, Ticket, TicketHold
from tandem.service.tests.factories import (
    AssignmentGroupSideFactory,
    ImportBatchFactory,
    TicketFactory,
    TicketHoldFactory,
)


@register(ImportBatch)
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
