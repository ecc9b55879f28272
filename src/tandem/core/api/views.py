"""The core API's viewsets (three attributes each, API tokens aside) and its plain views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tandem.core import filtersets, mfa, tokens
from tandem.core.api import serializers
from tandem.core.api.viewsets import ScopedModelViewSet
from tandem.core.choices import Action
from tandem.core.models import (
    ApiToken,
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


def _issue(request: Request, *, name: str, expires: Any = None) -> tuple[ApiToken, str]:
    """Issue a token to the caller, recording whether their session passed a second factor;
    refused (403) to a person who must use one, unless it did (a token-authenticated
    request is no session: such a person issues tokens from a signed-in browser)."""
    user = request.user
    verified = request.auth is None and mfa.session_passed_mfa(request._request, user)
    if mfa.requires_mfa(user) and not verified:
        raise PermissionDenied(
            "Platform administrators issue API tokens only from a session signed in with "
            "two-factor authentication: set up two-factor authentication, sign in with it "
            "and issue the token again."
        )
    try:
        return tokens.issue_token(user, name=name, mfa_verified=verified, expires=expires)
    except ValueError as exc:
        raise ValidationError({"non_field_errors": [str(exc)]}) from None


class ApiTokenViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your API tokens: several, each named, with an optional expiry. A new token's key is in
    the creation's answer only (only a digest is stored); a revoked token stops working at
    once and stays listed. Each issue and revocation is in the audit trail."""

    queryset = ApiToken.objects.all()
    serializer_class = serializers.ApiTokenSerializer

    def get_queryset(self) -> Any:
        return self.queryset.all().restrict(self.request.user, Action.VIEW)

    def get_serializer_class(self) -> Any:
        if self.action == "create":  # the browsable API's form too
            return serializers.ApiTokenCreateSerializer
        return serializers.ApiTokenSerializer

    @extend_schema(
        request=serializers.ApiTokenCreateSerializer,
        responses={201: serializers.ApiTokenIssuedSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = self.get_serializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, key = _issue(
            request, name=form.validated_data["name"], expires=form.validated_data.get("expires")
        )
        data = serializers.ApiTokenIssuedSerializer(token).data
        data["key"] = key
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Revoke the token (it stays listed, with the time of its revocation)."""
        tokens.revoke_token(self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=serializers.ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke the token; revoking a revoked token changes nothing."""
        token = self.get_object()
        tokens.revoke_token(token)
        return Response(serializers.ApiTokenSerializer(token).data)


class TokenView(APIView):
    """A new API token each time, shown once (send it as `Authorization: Token <key>`);
    named "API token" unless you give a name. List and revoke them at `tokens/`."""

    @extend_schema(
        request=serializers.TokenRequestSerializer,
        responses={201: serializers.TokenSerializer},
    )
    def post(self, request: Request) -> Response:
        form = serializers.TokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, key = _issue(request, name=form.validated_data.get("name") or "API token")
        body = {"token": key, "id": token.pk, "name": token.name, "prefix": token.prefix}
        return Response(body, status=status.HTTP_201_CREATED)


@csrf_exempt  # it changes nothing: a write with a token or a session gets the 404 too
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Unknown API paths answer JSON too (with a hint when only the final slash is missing)."""
    body = {"detail": "Not found."}
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            if match.func is not not_found:  # a real route, not a catch-all's 404
                body["detail"] = f"Not found. API paths end with a slash: {request.path}/"
    return JsonResponse(body, status=404)
