"""Models of the service app: imported tickets (``tickets``) and what SLA runs make of them
(``sla``: policies, runs, measurements, aggregates, credits)."""

from tandem.service.models.sla import (
    ServiceCredit,
    SlaAggregate,
    SlaMeasurement,
    SlaPolicy,
    SlaRun,
)
from tandem.service.models.tickets import AssignmentGroupSide, ImportBatch, Ticket, TicketHold

__all__ = [
    "AssignmentGroupSide",
    "ImportBatch",
    "ServiceCredit",
    "SlaAggregate",
    "SlaMeasurement",
    "SlaPolicy",
    "SlaRun",
    "Ticket",
    "TicketHold",
]
