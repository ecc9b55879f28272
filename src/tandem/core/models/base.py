"""Abstract bases every Tandem model builds on."""

from __future__ import annotations

from django.db import models

from tandem.core.access import RestrictedQuerySet


class ChangeLoggedModel(models.Model):
    """Timestamps, the audit trail (see ``tandem.core.audit``) and the restricted manager."""

    created = models.DateTimeField(auto_now_add=True, editable=False)
    last_updated = models.DateTimeField(auto_now=True, editable=False)

    objects = RestrictedQuerySet.as_manager()

    # Fields the audit trail must never store in clear (secrets, hashes).
    audit_exclude: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def audit_engagement_id(self) -> int | None:
        """The engagement this row's audit records belong to (None outside engagements)."""
        return None

    def audit_owner_id(self) -> int | None:
        """The organization owning this row, for vendor privacy of its audit records."""
        return None


class EngagementScopedModel(ChangeLoggedModel):
    """A record that belongs to one engagement: the tenant boundary.

    Registering a model is subclassing this: the generic access tests walk every subclass.
    """

    engagement = models.ForeignKey(
        "core.Engagement", on_delete=models.CASCADE, related_name="%(app_label)s_%(class)ss"
    )

    scope_area = "records"
    engagement_lookup = "engagement"
    owner_lookup: str | None = None

    class Meta:
        abstract = True

    def audit_engagement_id(self) -> int | None:
        return self.engagement_id  # type: ignore[attr-defined,no-any-return]

    def audit_owner_id(self) -> int | None:
        if not self.owner_lookup:
            return None
        value: object = self
        for part in self.owner_lookup.split("__"):
            value = getattr(value, part, None)
            if value is None:
                return None
        return getattr(value, "pk", None)


class EngagementBulkModel(models.Model):
    """Bulk data of one engagement (imported tickets, computed measurements): scoped and
    restricted like any engagement record, but written in batches by a service, never edited
    one row at a time, and audited per batch (the service records one change per import or
    run) rather than per row: a million ticket rows do not make a million audit records.

    Read-only through the UI and the API (``writable = False``); the generic access tests
    walk these too.
    """

    engagement = models.ForeignKey(
        "core.Engagement", on_delete=models.CASCADE, related_name="%(app_label)s_%(class)ss"
    )

    scope_area = "records"
    engagement_lookup = "engagement"
    owner_lookup: str | None = None
    writable = False

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True
