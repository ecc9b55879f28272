"""Template helpers of the SLA run pages."""

from __future__ import annotations

from typing import Any

from django import template

from tandem.service import sla_runs

register = template.Library()


@register.simple_tag
def default_as_of(engagement: Any) -> dict[str, Any]:
    """What "Run now" measures up to when no time is typed: ``{"as_of", "basis"}`` (the
    last imported event for an historical export, else now; ``sla_runs.default_as_of``)."""
    if engagement is None:
        return {}
    as_of, basis = sla_runs.default_as_of(engagement)
    return {"as_of": as_of, "basis": basis, "label": basis.label}
