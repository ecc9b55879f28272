"""What the engagement home suggests next for service levels: import the service desk's
tickets, write the SLA policy, run the SLA engine - the first of them still missing, for
whoever may do it (registered from ``ServiceConfig.ready()``, :mod:`tandem.core.registry`)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from tandem.core.access import can_add
from tandem.core.registry import NextStep
from tandem.service.models import ImportBatch, SlaPolicy, SlaRun

STEPS = (
    (ImportBatch, "Import the service desk's tickets to measure service levels", "import_upload"),
    (SlaPolicy, "Write the SLA policy: calendars, targets and service credits", "slapolicy_add"),
    (SlaRun, "Run the SLA engine over the imported tickets", "slarun_list"),
)


def engagement_next_steps(user: Any, engagement: Any) -> list[NextStep]:
    """The first missing step, if ``user`` may take it (at most four queries)."""
    for model, text, url_name in STEPS:
        if model.objects.restrict(user).filter(engagement=engagement).exists():
            continue
        if not can_add(user, model, engagement):
            return []
        return [NextStep(text, reverse(f"service:{url_name}", args=[engagement.pk]), order=100)]
    return []
