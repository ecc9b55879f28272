"""In-app notifications and personal calendar feeds: a person's own, private rows.

A notification is written by ``tandem.core.notifications.notify`` (which also sends the
e-mail); a calendar feed is issued by ``tandem.core.calendar_feed`` (only a digest of its
secret token is stored). Both are visible to their owner only, whatever the action, even to
a platform administrator: what someone is reminded of is their own business.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tandem.core.choices import Action

TITLE_MAX_LENGTH = 200
BODY_MAX_LENGTH = 4000
URL_MAX_LENGTH = 500
KIND_MAX_LENGTH = 50


def validate_relative_url(value: str) -> None:
    """A link inside Tandem: empty, or a path starting with one "/" (never "//", which a
    browser reads as another host, nor a scheme or a backslash)."""
    if not value:
        return
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        raise ValidationError(
            "A notification's link is a path inside Tandem: it starts with one “/”.",
            code="invalid",
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError("A notification's link has no control characters.", code="invalid")


class OwnedQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = Action.VIEW) -> Any:
        """A person's own rows, whatever the action: nobody else lists, opens or marks them,
        platform administrators included."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(**{self.model.owner_field: user.pk})


class Notification(models.Model):
    """Something a person should know or do, with a link to where to do it."""

    owner_field = "recipient_id"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    engagement = models.ForeignKey(
        "core.Engagement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    kind = models.SlugField(
        max_length=KIND_MAX_LENGTH,
        blank=True,
        help_text="What sort of notice, e.g. 'escalation' or 'obligation-due'.",
    )
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    body = models.TextField(max_length=BODY_MAX_LENGTH, blank=True)
    url = models.CharField(
        max_length=URL_MAX_LENGTH,
        blank=True,
        validators=[validate_relative_url],
        help_text="Where to act: a path inside Tandem, e.g. /engagements/3/.",
    )
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="core_notif_recipient_read"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(title=""), name="%(app_label)s_%(class)s_title_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("core:notification_open", args=[self.pk])

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class CalendarFeed(models.Model):
    """A person's secret iCalendar feed: one per person; the token is never stored, only its
    SHA-256 digest (``prefix`` finds the row, as for API tokens)."""

    owner_field = "user_id"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "calendar feed"

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({self.prefix}…)"
