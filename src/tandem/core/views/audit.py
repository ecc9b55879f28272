"""The audit trail: everything the user may see, one engagement's, and one record."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from tandem.core.filtersets import ChangeLogFilterSet
from tandem.core.models import ChangeLog, Engagement
from tandem.core.tables import ChangeLogTable
from tandem.core.views.generic import ObjectDetailView, ObjectListView


class ChangeLogListView(ObjectListView):
    """``/audit/`` and ``/engagements/<pk>/audit/``: filterable, sortable, CSV export."""

    queryset = ChangeLog.objects.select_related("content_type")
    table_class = ChangeLogTable
    filterset_class = ChangeLogFilterSet
    template_name = "core/changelog_list.html"
    title = "Audit trail"
    engagement_field = "engagement_id"
    per_page = 50


class ChangeLogDetailView(ObjectDetailView):
    """Who, when, from where, and the field-level before/after."""

    queryset = ChangeLog.objects.select_related("content_type")
    template_name = "core/changelog_detail.html"

    def get_extra_context(self, obj: ChangeLog) -> dict[str, Any]:
        engagement = None
        if obj.engagement_id is not None:
            engagement = (
                Engagement.objects.restrict(self.request.user).filter(pk=obj.engagement_id).first()
            )
        target = None
        model = obj.content_type.model_class()
        if model is not None and obj.action != "delete":
            manager = model._default_manager
            restrict = getattr(manager.all(), "restrict", None)
            if restrict is not None:
                try:
                    target = restrict(self.request.user).filter(pk=obj.object_id).first()
                except (ValueError, ValidationError):
                    target = None
        return {
            "engagement": engagement,
            "target": target,
            "type_name": model._meta.verbose_name if model else obj.content_type.model,
            "related": ChangeLog.objects.restrict(self.request.user)
            .filter(request_id=obj.request_id)
            .exclude(pk=obj.pk)
            .select_related("content_type")[:20],
        }
