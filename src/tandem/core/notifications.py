"""The one way any capability tells people something: ``notify(...)``.

It writes the in-app notifications (one bulk insert, shown by the bell in the top bar and
at /notifications/) and, once the surrounding transaction commits, sends each active
recipient a plain-text e-mail through Django's mail backend (the console in the embedded
mode; SMTP from ``TANDEM_EMAIL_*``, see docs/configuration.md). A failing mail server is
logged and never loses the in-app notification. Only active people are notified.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from tandem.core.models import Notification
from tandem.core.models.notifications import (
    BODY_MAX_LENGTH,
    KIND_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    validate_relative_url,
)

logger = logging.getLogger(__name__)

# How many recipients one call may notify: a capability that needs more is doing it wrong.
MAX_RECIPIENTS = 500


def _clean(text: str, limit: int) -> str:
    text = " ".join(str(text).split()) if limit <= TITLE_MAX_LENGTH else str(text).strip()
    return text[:limit]


def notify(
    recipients: Iterable[Any],
    *,
    title: str,
    body: str = "",
    url: str = "",
    engagement: Any = None,
    kind: str = "",
    email: bool = True,
) -> list[Notification]:
    """Notify each active person of ``recipients`` (users; duplicates and inactive people
    are skipped): one in-app notification each, and an e-mail after commit when ``email``.

    ``url`` is a path inside Tandem ("/engagements/3/"); anything else raises ValueError,
    as does an empty title. Title and body are cut to their bounds. Returns the rows."""
    title = _clean(title, TITLE_MAX_LENGTH)
    if not title:
        raise ValueError("A notification needs a title.")
    body = _clean(body, BODY_MAX_LENGTH)
    kind = slugify(str(kind))[:KIND_MAX_LENGTH]
    try:
        validate_relative_url(url)
    except ValidationError as error:
        raise ValueError(error.messages[0]) from error
    people: dict[int, Any] = {}
    for person in recipients:
        if person is not None and person.is_active and person.pk not in people:
            people[person.pk] = person
    if len(people) > MAX_RECIPIENTS:
        raise ValueError(f"One notification reaches at most {MAX_RECIPIENTS} people.")
    if not people:
        return []
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=person,
                engagement=engagement,
                kind=kind,
                title=title,
                body=body,
                url=url,
            )
            for person in people.values()
        ]
    )
    if email:
        addresses = [person.email for person in people.values() if person.email]
        if addresses:
            transaction.on_commit(lambda: send_email(addresses, title=title, body=body, url=url))
    return rows


def absolute_link(url: str) -> str:
    """``url`` made absolute with ``TANDEM_BASE_URL`` when set (e-mails leave the site)."""
    base = getattr(settings, "TANDEM_BASE_URL", "").rstrip("/")
    return f"{base}{url}" if url else ""


def send_email(addresses: list[str], *, title: str, body: str, url: str = "") -> int:
    """One plain-text message per address (nobody sees the others' addresses); returns how
    many were sent. Any failure of the mail backend is logged, never raised."""
    lines = [body] if body else []
    link = absolute_link(url)
    if link:
        lines.append(f"Open it in Tandem: {link}")
    lines.append("You receive this because you take part in an engagement in Tandem.")
    text = "\n\n".join(lines)
    subject = f"[Tandem] {title}"
    try:
        connection = _mailer()
        messages = [
            EmailMessage(subject, text, settings.DEFAULT_FROM_EMAIL, [address])
            for address in addresses
        ]
        return int(connection.send_messages(messages) or 0)
    except Exception:  # any backend error: the in-app notification stays, the log says why
        logger.exception(
            "Sending the notification e-mail %r to %d people failed", title, len(addresses)
        )
        return 0


def _mailer() -> Any:
    """The default mail connection: ``mailers.default`` where Django has it (6.1+; the
    MAILERS setting), ``get_connection()`` before."""
    try:
        from django.core.mail import mailers  # type: ignore[attr-defined]
    except ImportError:  # Django before 6.1
        from django.core.mail import get_connection

        return get_connection()
    return mailers.default


def unread_count(user: Any) -> int:
    return Notification.objects.restrict(user).filter(read_at__isnull=True).count()


def mark_read(notification: Notification) -> bool:
    """Mark one notification read; False when it already was."""
    if notification.read_at is not None:
        return False
    now = timezone.now()
    updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
        read_at=now
    )
    notification.read_at = now
    return bool(updated)


def mark_all_read(user: Any) -> int:
    """Mark every unread notification of ``user`` read; returns how many."""
    return int(
        Notification.objects.restrict(user)
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )
