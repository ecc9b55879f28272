"""One time-zone rule for pages: inside an engagement, times are shown in the engagement's
time zone (and the SLA pages say which); outside one, in the server's (``TIME_ZONE``, UTC).

Instants are stored in UTC and the API, CSV and XLSX exports keep them so (ISO 8601 with an
offset): only what a page renders is read in the zone. Views render inside
:func:`engagement_zone`; templates' ``|date`` and ``timezone.localtime`` then follow it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone


def zone_name(engagement: object | None) -> str:
    """The engagement's time zone name, or the server's outside an engagement."""
    name = getattr(engagement, "time_zone", "") or settings.TIME_ZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return settings.TIME_ZONE
    return name


@contextmanager
def engagement_zone(engagement: object | None) -> Iterator[str]:
    """Render in the engagement's time zone (yields its name); the server's without one."""
    name = zone_name(engagement)
    with timezone.override(ZoneInfo(name)):
        yield name
