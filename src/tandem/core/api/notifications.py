"""Your notifications over the API: /api/v1/core/notifications/ (list, retrieve, mark one or
all read). Only your own: anyone else's id is a 404, for platform administrators too."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from tandem.core import notifications
from tandem.core.choices import Action
from tandem.core.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    """One of your notifications; ``url`` is a path inside Tandem (may be empty)."""

    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "url",
            "engagement",
            "created",
            "read_at",
            "is_read",
        ]
        read_only_fields = fields


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_unread",
        label="Only unread (true) or only read (false)",
    )

    def filter_unread(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(read_at__isnull=value == "true")

    class Meta:
        model = Notification
        fields = ["kind", "engagement"]


class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your notifications, newest first (``?unread=true`` for the unread ones). Reading one
    here does not mark it read: ``POST <id>/read/`` does, ``POST read-all/`` marks them all."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering_fields = ["created"]

    def get_queryset(self) -> Any:
        return self.queryset.all().restrict(self.request.user, Action.VIEW)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        """Mark the notification read (marking it again changes nothing)."""
        notification = self.get_object()
        notifications.mark_read(notification)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(
        request=None,
        responses=inline_serializer(
            "NotificationsMarkedRead", {"marked_read": serializers.IntegerField()}
        ),
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        """Mark every unread notification of yours read; answers how many were."""
        return Response({"marked_read": notifications.mark_all_read(request.user)})
