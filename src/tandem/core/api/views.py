"""The core API's viewsets (three attributes each) and its two plain views."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tandem.core import audit, filtersets
from tandem.core.api import serializers
from tandem.core.api.viewsets import ScopedModelViewSet
from tandem.core.choices import AuditAction
from tandem.core.models import (
    ChangeLog,
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)


class OrganizationViewSet(ScopedModelViewSet):
    """Hospitals, health systems, practices, vendors and advisors. Platform administrators
    manage them; others see their own organization and the parties of their engagements."""

    queryset = Organization.objects.all()
    serializer_class = serializers.OrganizationSerializer
    filterset_class = filtersets.OrganizationFilterSet


class EngagementViewSet(ScopedModelViewSet):
    """Partnerships between a client organization and its IT vendors. Creating one adds the
    client party; a creator who is not a platform administrator becomes its IT lead."""

    queryset = Engagement.objects.select_related("client")
    serializer_class = serializers.EngagementSerializer
    filterset_class = filtersets.EngagementFilterSet


class EngagementPartyViewSet(ScopedModelViewSet):
    """The organizations taking part in an engagement, on the client, vendor or advisor side."""

    queryset = EngagementParty.objects.select_related("organization")
    serializer_class = serializers.EngagementPartySerializer
    filterset_class = filtersets.EngagementPartyFilterSet


class RoleAssignmentViewSet(ScopedModelViewSet):
    """People's roles in engagements: the only source of access to an engagement."""

    queryset = RoleAssignment.objects.select_related("user")
    serializer_class = serializers.RoleAssignmentSerializer
    filterset_class = filtersets.RoleAssignmentFilterSet


class UserViewSet(ScopedModelViewSet):
    """People: colleagues and the people you share an engagement with. Platform
    administrators create and manage accounts; you may edit your own name and job title."""

    queryset = User.objects.all()
    serializer_class = serializers.UserSerializer
    filterset_class = filtersets.UserFilterSet


class ChangeLogViewSet(ScopedModelViewSet):
    """The audit trail of the engagements you hold a role in (read-only, append-only)."""

    queryset = ChangeLog.objects.select_related("content_type")
    serializer_class = serializers.ChangeLogSerializer
    filterset_class = filtersets.ChangeLogFilterSet
    http_method_names = ["get", "head", "options"]


class TokenView(APIView):
    """Your API token, created on first request: send it as `Authorization: Token <key>`.
    Each time it is issued or shown, the audit trail says so (never the key itself)."""

    @extend_schema(request=None, responses=serializers.TokenSerializer)
    def post(self, request: Request) -> Response:
        with transaction.atomic():
            token, created = Token.objects.get_or_create(user=request.user)
            message = "API token issued" if created else "API token shown again"
            audit.record(
                request.user, action=AuditAction.REVEAL, before=None, after=None, message=message
            )
        return Response({"token": token.key})


def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Unknown API paths answer JSON too (with a hint when only the final slash is missing)."""
    body = {"detail": "Not found."}
    if not request.path.endswith("/"):
        try:
            resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            body["detail"] = f"Not found. API paths end with a slash: {request.path}/"
    return JsonResponse(body, status=404)
