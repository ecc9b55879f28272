"""The one base viewset: every API list, detail and write goes through ``restrict()``."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from rest_framework import viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from tandem.core.access import can_add, can_add_anywhere
from tandem.core.choices import Action


class ScopedModelViewSet(viewsets.ModelViewSet):
    """CRUD on the rows the caller may see; a subclass names its queryset and serializer.

    - Reads: ``get_queryset()`` is ``restrict(user, "view")``, so an object outside the
      caller's scope is a 404 and lists never hold one.
    - Updates and deletes: ``ScopedPermission`` asks the permission table (403).
    - Creates: 403 unless the caller may add such rows, and may add them to the engagement
      named in the payload; an engagement the caller cannot see is a 400 field error.
    - Every write runs in one transaction with its audit records (written by the model
      signals, with source "api").
    """

    def get_queryset(self) -> Any:
        return self.queryset.all().restrict(self.request.user, Action.VIEW)

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
        with transaction.atomic():
            serializer.save()

    def perform_destroy(self, instance: models.Model) -> None:
        with transaction.atomic():
            instance.delete()
