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
