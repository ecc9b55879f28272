"""API tokens: only a SHA-256 digest of each key is stored; the key is shown once."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from tandem.core.choices import Action


class ApiTokenQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = Action.VIEW) -> Any:
        """A person's own tokens, whatever the action: nobody else lists, shows or revokes
        them in the UI or the API (platform administrators see all, read-only, in the admin)."""
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        return self.filter(user_id=user.pk)


class ApiToken(models.Model):
    """One named API token of a person. The key itself is never stored: ``prefix`` (the
    key's first characters, also written in the key) finds the row, ``digest`` proves it.
    ``mfa_verified`` says the token was issued from a session verified with a second factor:
    a person who must use one (a platform administrator) can use only such tokens."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(
        max_length=100, help_text="What the token is for, e.g. 'nightly export'."
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    mfa_verified = models.BooleanField(default=False, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""), name="%(app_label)s_%(class)s_name_not_empty"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
