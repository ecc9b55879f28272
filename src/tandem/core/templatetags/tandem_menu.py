"""The engagement navigation, from what the apps registered (:mod:`tandem.core.registry`)."""

from __future__ import annotations

from typing import Any

from django import template

from tandem.core.registry import engagement_menu as menu_for

register = template.Library()


@register.simple_tag(takes_context=True)
def engagement_menu(context: template.Context, engagement: Any) -> list[dict[str, Any]]:
    """``{% engagement_menu engagement as entries %}``: the pages of ``engagement`` the
    signed-in person may see, each with ``label``, ``url`` and ``current``. Worked out once
    per request and engagement (the side navigation and the phone Menu share it)."""
    request = context.get("request")
    if request is None or engagement is None or getattr(engagement, "pk", None) is None:
        return []
    cache: dict[Any, list[dict[str, Any]]] = request.__dict__.setdefault("_tandem_menu", {})
    if engagement.pk not in cache:
        match = getattr(request, "resolver_match", None)
        view_name = match.view_name if match is not None else ""
        cache[engagement.pk] = menu_for(request.user, engagement, view_name)
    return cache[engagement.pk]
