"""The one base viewset: every API list, detail and write goes through ``restrict()``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import django_filters
from django.db import models, transaction
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from tandem.core.access import (
    approval_refused,
    can_add,
    can_add_anywhere,
    engagement_ids_for,
    is_platform_admin,
)
from tandem.core.api.pagination import BulkPagination, Pagination
from tandem.core.choices import Action
from tandem.core.models.base import EngagementBulkModel


class FilterFriendlyNegotiation(DefaultContentNegotiation):
    """The renderer is chosen by the Accept header alone: ``?format=`` is a filter here (an
    import's file format), which DRF would otherwise read as a renderer's name (a 404)."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


class ScopedModelViewSet(viewsets.ModelViewSet):
    """CRUD on the rows the caller may see; a subclass names its queryset and serializer.

    - Reads: ``get_queryset()`` is ``restrict(user, "view")``, so an object outside the
      caller's scope is a 404 and lists never hold one.
    - Updates and deletes: ``ScopedPermission`` asks the permission table (403); changing
      an ``approval_fields`` field (an engagement's phase) needs "approve" too (403).
    - Creates: 403 unless the caller may add such rows, and may add them to the engagement
      named in the payload; an engagement the caller cannot see is a 400 field error.
    - Every write runs in one transaction with its audit records (written by the model
      signals, with source "api").
    - Lists of bulk tables (``EngagementBulkModel``: tickets, measurements…) are paged by
      ``BulkPagination`` (no ``count``), and name the caller's engagements as literal ids
      beside ``restrict()``'s subquery (the same rows): the database then plans with the
      ``(engagement, …)`` indexes, so a page of one engagement's 150,000 tickets reads its
      50 rows in index order instead of sorting them all.
    - Filters take what the schema says: an empty value (``?month=``) or a boolean other than
      ``true``/``false`` is a 400 naming the filter, not silently no filter at all (free
      text filters such as ``q`` may be empty).
    """

    content_negotiation_class = FilterFriendlyNegotiation

    @property
    def pagination_class(self) -> type[Pagination]:  # type: ignore[override]
        return BulkPagination if self._bulk() else Pagination

    def _bulk(self) -> bool:
        return issubclass(self.queryset.model, EngagementBulkModel)

    def get_queryset(self) -> Any:
        user = self.request.user
        queryset = self.queryset.all().restrict(user, Action.VIEW)
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the schema
            return queryset
        if self._bulk() and self.action == "list" and not is_platform_admin(user):
            model = self.queryset.model
            visible = engagement_ids_for(user, model.scope_area, Action.VIEW)
            ids = sorted({row["engagement_id"] for row in visible})
            queryset = queryset.filter(engagement_id__in=ids)
        return queryset

    def filter_queryset(self, queryset: Any) -> Any:
        if self.action == "list":
            refuse_vague_filters(self.request, getattr(self, "filterset_class", None))
        return super().filter_queryset(queryset)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_add_anywhere(request.user, self.queryset.model):
            raise PermissionDenied("You may not add these records.")
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: BaseSerializer) -> None:
        engagement = serializer.validated_data.get("engagement")
        model = self.queryset.model
        if engagement is not None and not can_add(self.request.user, model, engagement):
            raise PermissionDenied("Your role in this engagement may not add these records.")
        with transaction.atomic():
            serializer.save()

    def perform_update(self, serializer: BaseSerializer) -> None:
        instance = serializer.instance
        moved = [
            name
            for name in approval_refused(self.request.user, instance)
            if name in serializer.validated_data
            and serializer.validated_data[name] != getattr(instance, name)
        ]
        if moved:
            raise PermissionDenied(
                f"Changing {', '.join(moved)} is an approval: only a role that approves "
                "(the engagement's sponsor) may."
            )
        with transaction.atomic():
            serializer.save()

    def perform_destroy(self, instance: models.Model) -> None:
        with transaction.atomic():
            instance.delete()


def refuse_vague_filters(request: Request, filterset_class: Any) -> None:
    """A 400 for filter values that the filterset would quietly ignore (see the class doc)."""
    if filterset_class is None:
        return
    errors = {}
    for name, filter_ in filterset_class.base_filters.items():
        for value in request.query_params.getlist(name):
            if value == "" and type(filter_) is not django_filters.CharFilter:
                errors[name] = [f"Give {name} a value, or leave it out."]
            elif isinstance(filter_, django_filters.BooleanFilter) and value not in (
                "true",
                "false",
            ):
                errors[name] = [f"{name} is true or false, not {value[:40]!r}."]
    if errors:
        raise ValidationError(errors)
