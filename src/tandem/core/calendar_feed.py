"""Each person's secret iCalendar feed of their deadlines, and the registry that fills it.

Apps contribute deadlines without ``core`` importing them: at start-up (their AppConfig's
``ready``) an app calls ``register_deadlines(fn)``, where ``fn(user)`` returns the person's
deadlines as ``Deadline`` tuples (uid, title, start date or datetime, url, description).

The feed lives at ``/calendar/<token>.ics``. Its token reads ``cal_<prefix>_<secret>``: only
the SHA-256 digest of the whole token is stored (as for API tokens, ``tandem.core.tokens``),
it is shown once, and rotating it issues a new one and invalidates the old at once. Issue,
rotation and deletion are audited, without the token or its digest.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from django.db import transaction
from django.utils import timezone

from tandem.core import audit
from tandem.core.choices import AuditAction
from tandem.core.models import CalendarFeed

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "cal"
PREFIX_BYTES = 6
SECRET_BYTES = 32
# At most this many events in one feed (the nearest first is up to the providers; the feed
# stops there): a calendar client polls it often.
MAX_EVENTS = 500
MAX_TEXT = 1000
# A feed answers at most this many reads a minute (then 429 with Retry-After).
MAX_READS_PER_MINUTE = 30
# ``last_used`` is written at most this often.
LAST_USED_SECONDS = 300
AUDIT_EXCLUDE = frozenset({"digest"})

_TOKEN_FORMAT = re.compile(
    rf"{TOKEN_PREFIX}_(?P<prefix>[0-9a-f]{{{PREFIX_BYTES * 2}}})_[A-Za-z0-9_-]{{20,200}}"
)


class Deadline(NamedTuple):
    uid: str
    title: str
    start: date | datetime
    url: str = ""
    description: str = ""


Provider = Callable[[Any], Iterable[Deadline | tuple[Any, ...]]]
_PROVIDERS: list[Provider] = []


def register_deadlines(provider: Provider) -> Provider:
    """Add ``provider`` (``fn(user) -> iterable of deadlines``) to every person's feed;
    usable as a decorator. Registering the same function twice adds it once."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def unregister_deadlines(provider: Provider) -> None:
    if provider in _PROVIDERS:
        _PROVIDERS.remove(provider)


def deadlines_for(user: Any, *, limit: int = MAX_EVENTS) -> list[Deadline]:
    """Every provider's deadlines for ``user``, at most ``limit`` in all."""
    found: list[Deadline] = []
    for provider in list(_PROVIDERS):
        try:
            for item in provider(user):
                if len(found) >= limit:
                    return found
                found.append(Deadline(*item))
        except Exception:  # one broken provider leaves the others' deadlines in the feed
            logger.exception("The calendar provider %r failed", provider)
    return found


def over_rate(feed: CalendarFeed) -> bool:
    """True when ``feed`` was read more than ``MAX_READS_PER_MINUTE`` times this minute
    (a calendar client polls every few minutes; a loop is cut off with a 429)."""
    from django.core.cache import cache

    key = f"tandem:calendar-feed:{feed.pk}:{int(timezone.now().timestamp() // 60)}"
    if cache.add(key, 1, timeout=90):
        return False
    try:
        return int(cache.incr(key)) > MAX_READS_PER_MINUTE
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=90)
        return False


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _snapshot(feed: CalendarFeed) -> dict[str, Any]:
    data = audit.snapshot(feed)
    for name in AUDIT_EXCLUDE:
        data.pop(name, None)
    return data


def issue_feed(user: Any) -> tuple[CalendarFeed, str]:
    """Create or rotate ``user``'s feed; return it and its token (shown once, never stored).
    Rotating replaces the digest: the old URL stops working at once."""
    with transaction.atomic():
        while True:
            prefix = secrets.token_hex(PREFIX_BYTES)
            if not CalendarFeed.objects.filter(prefix=prefix).exists():
                break
        token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
        feed = CalendarFeed.objects.select_for_update().filter(user_id=user.pk).first()
        if feed is None:
            feed = CalendarFeed.objects.create(user=user, prefix=prefix, digest=digest_of(token))
            audit.record(
                feed,
                action=AuditAction.CREATE,
                before=None,
                after=_snapshot(feed),
                message="Calendar feed created",
            )
        else:
            before = _snapshot(feed)
            feed.prefix = prefix
            feed.digest = digest_of(token)
            feed.created = timezone.now()
            feed.last_used = None
            feed.save(update_fields=["prefix", "digest", "created", "last_used"])
            audit.record(
                feed,
                action=AuditAction.UPDATE,
                before=before,
                after=_snapshot(feed),
                message="Calendar feed rotated: the previous address no longer works",
            )
    return feed, token


def delete_feed(user: Any) -> bool:
    """Delete ``user``'s feed (audited); False when there was none."""
    with transaction.atomic():
        feed = CalendarFeed.objects.select_for_update().filter(user_id=user.pk).first()
        if feed is None:
            return False
        audit.record(
            feed,
            action=AuditAction.DELETE,
            before=_snapshot(feed),
            after=None,
            message="Calendar feed deleted",
        )
        feed.delete()
    return True


def find_feed(token: str) -> CalendarFeed | None:
    """The feed of this token, when its owner is still active; None for anything else."""
    match = _TOKEN_FORMAT.fullmatch(token)
    if match is None:
        return None
    feed = CalendarFeed.objects.select_related("user").filter(prefix=match["prefix"]).first()
    if feed is None or not hmac.compare_digest(feed.digest, digest_of(token)):
        return None
    if not feed.user.is_active:
        return None
    now = timezone.now()
    if feed.last_used is None or (now - feed.last_used).total_seconds() >= LAST_USED_SECONDS:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used=now)
        feed.last_used = now
    return feed


def _text(value: Any) -> str:
    return str(value or "")[:MAX_TEXT]


def render_ics(user: Any, *, base_url: str = "") -> bytes:
    """The VCALENDAR of ``user``'s deadlines (``base_url`` makes their links absolute)."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Tandem//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Tandem deadlines")
    stamp = timezone.now()
    for deadline in deadlines_for(user):
        event = Event()
        event.add("uid", _text(deadline.uid))
        event.add("summary", _text(deadline.title))
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.start)
        if deadline.description:
            event.add("description", _text(deadline.description))
        url = _text(deadline.url)
        if url.startswith("/") and not url.startswith("//"):
            event.add("url", f"{base_url.rstrip('/')}{url}")
        calendar.add_component(event)
    return bytes(calendar.to_ical())
