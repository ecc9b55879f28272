"""Template context shared by every page: the signed-in person's engagements for the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from tandem.core.models import Engagement

    def engagements() -> list[Engagement]:
        return list(Engagement.objects.restrict(user).select_related("client")[:25])

    return {"nav_engagements": engagements}


def notifications(request: HttpRequest) -> dict[str, Any]:
    """The bell's unread count: a callable the template calls, one COUNT query at most per
    request (kept on the request); nothing at all for anonymous visitors."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from tandem.core.notifications import unread_count

    def count() -> int:
        cached = getattr(request, "_tandem_unread_notifications", None)
        if cached is None:
            cached = unread_count(user)
            request._tandem_unread_notifications = cached  # type: ignore[attr-defined]
        return cached

    return {"unread_notifications": count}
