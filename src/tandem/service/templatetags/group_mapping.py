"""Template helpers of the bulk group mapping: its page's address for those who may map."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from tandem.service.group_sides import may_map

register = template.Library()


@register.simple_tag(takes_context=True)
def group_map_url(context: Any, engagement: Any) -> str:
    """The bulk mapping page of ``engagement`` when the signed-in user may change its groups'
    sides (its sponsor and IT lead), else "" (no button for anyone else)."""
    request = context.get("request")
    if engagement is None or request is None or not may_map(request.user, engagement):
        return ""
    return reverse("service:assignmentgroup_map", args=[engagement.pk])
