"""The audit trail: one append-only change log for every write (HIPAA 164.312(b))."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse

from tandem.core.access import engagement_ids_for, vendor_privacy_filter
from tandem.core.choices import Action, AuditAction, AuditSource


class AppendOnlyError(RuntimeError):
    """Raised by any attempt to edit or delete an audit record."""


class ChangeLogQuerySet(models.QuerySet):
    """Reads only: bulk updates and deletes are refused."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("The audit trail is append-only: records cannot be updated.")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("The audit trail is append-only: records cannot be deleted.")

    def changes(self) -> Any:
        """Records of data changes (leaving out sign-ins and sign-outs)."""
        return self.exclude(
            action__in=[AuditAction.LOGIN, AuditAction.LOGOUT, AuditAction.LOGIN_FAILED]
        )

    def restrict(self, user: Any, action: str = Action.VIEW) -> Any:
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_staff:
            return self
        if action != Action.VIEW:
            return self.none()
        in_scope = Q(engagement_id__in=engagement_ids_for(user, "audit", Action.VIEW))
        return self.filter(in_scope).filter(vendor_privacy_filter(user, "owner_organization"))

    def visible_to(self, user: Any) -> Any:
        return self.restrict(user, Action.VIEW)


class ChangeLog(models.Model):
    """Who changed what, when, from where, with the field values before and after."""

    time = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    # Frozen at write time: the record must still name the person after their account is gone.
    user_name = models.CharField(max_length=200)
    request_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    client_address = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=10, choices=AuditSource.choices)
    action = models.CharField(max_length=16, choices=AuditAction.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200)
    # Plain ids, not foreign keys: deleting an engagement or organization keeps its history.
    engagement_id = models.BigIntegerField(null=True, blank=True)
    owner_organization = models.ForeignKey(
        "core.Organization",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    prechange_data = models.JSONField(null=True, blank=True)
    postchange_data = models.JSONField(null=True, blank=True)
    message = models.CharField(max_length=300, blank=True)

    objects = ChangeLogQuerySet.as_manager()

    class Meta:
        ordering = ["-time", "-pk"]
        verbose_name = "change record"
        indexes = [
            # The engagement audit page lists newest first within one engagement.
            models.Index(fields=["engagement_id", "-time"], name="core_changelog_eng_time_idx"),
            # The History tab of a detail page reads one object's records.
            models.Index(fields=["content_type", "object_id"], name="core_changelog_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.object_repr} by {self.user_name}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The audit trail is append-only: records cannot be updated.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("core:changelog_detail", args=[self.pk])

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("The audit trail is append-only: records cannot be deleted.")

    @property
    def diff(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field whose value changed."""
        before = self.prechange_data or {}
        after = self.postchange_data or {}
        fields = sorted(set(before) | set(after))
        return [
            (name, before.get(name), after.get(name))
            for name in fields
            if before.get(name) != after.get(name)
        ]
