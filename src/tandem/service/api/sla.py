"""API of SLA policy versions and SLA runs: serializers and viewsets, on the service router.

Policy versions: full CRUD; the number is assigned on create; a version a run has used
answers 409 to a change or a delete. Runs: read-only, plus ``POST`` on the list, which
queues a run of the named engagement (202, with its progress URL).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from tandem.core.access import can_add, can_add_anywhere
from tandem.core.api.fields import ScopedPrimaryKeyRelatedField
from tandem.core.api.serializers import ScopedModelSerializer
from tandem.core.api.viewsets import ScopedModelViewSet
from tandem.core.models import Engagement
from tandem.service import sla_policies, sla_runs
from tandem.service.filtersets_sla import SlaPolicyFilterSet, SlaRunFilterSet
from tandem.service.models import SlaPolicy, SlaRun

TIMESTAMPS = ["created", "last_updated"]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the record's current state."
    default_code = "conflict"


# Serializers -------------------------------------------------------------------------------


class SlaPolicySerializer(ScopedModelSerializer):
    is_frozen = serializers.SerializerMethodField(
        help_text="Used by an SLA run: can no longer be changed or deleted."
    )

    class Meta:
        model = SlaPolicy
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "version",
            "name",
            "effective_from",
            "source",
            "note",
            "created_by",
            "is_frozen",
            *TIMESTAMPS,
        ]
        read_only_fields = ["version", "created_by"]

    def get_is_frozen(self, obj: SlaPolicy) -> bool:
        frozen = getattr(obj, "frozen", None)  # annotated on lists (one query, not one a row)
        return obj.is_frozen if frozen is None else bool(frozen)

    def create(self, validated_data: dict[str, Any]) -> SlaPolicy:
        return sla_policies.add_policy_version(user=self.user, **validated_data)

    def update(self, instance: SlaPolicy, validated_data: dict[str, Any]) -> SlaPolicy:
        validated_data.pop("engagement", None)  # validate() refused a move already
        try:
            return sla_policies.change_policy_version(
                policy=instance, user=self.user, **validated_data
            )
        except sla_policies.PolicyFrozen as exc:
            raise Conflict(str(exc)) from exc


class SlaRunSerializer(ScopedModelSerializer):
    progress_url = serializers.SerializerMethodField(
        help_text="The run's progress record (JSON), while it is queued or running."
    )

    class Meta:
        model = SlaRun
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "number",
            "status",
            "as_of",
            "as_of_basis",
            "time_zone",
            "policies",
            "started_by",
            "started_at",
            "finished_at",
            "tickets_measured",
            "tickets_not_measured",
            "measurements_count",
            "breaches_count",
            "at_risk_count",
            "error",
            "progress_url",
            *TIMESTAMPS,
        ]
        read_only_fields = fields

    def get_progress_url(self, obj: SlaRun) -> str | None:
        if obj.progress_id is None:
            return None
        path = reverse("progress:json", args=[obj.progress_id])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class SlaRunStartSerializer(serializers.Serializer):
    """What ``POST /sla-runs/`` takes: the engagement, and optionally the as-of instant."""

    engagement = ScopedPrimaryKeyRelatedField(queryset=Engagement.objects.all())
    as_of = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Open clocks are measured up to this instant (ISO 8601 with an offset). "
        "Default: now, or the last imported event when the tickets are an historical export "
        "(the run's as_of_basis says which). Only the client's sponsor and IT lead may "
        "choose it (a term): 403 for anyone else who sends it.",
    )


# Viewsets ------------------------------------------------------------------------------------


class SlaPolicyViewSet(ScopedModelViewSet):
    """Versions of an engagement's SLA policy (TOML); frozen once a run used them (409)."""

    queryset = SlaPolicy.objects.annotate(
        frozen=Exists(SlaRun.policies.through.objects.filter(slapolicy_id=OuterRef("pk")))
    )
    serializer_class = SlaPolicySerializer
    filterset_class = SlaPolicyFilterSet

    def perform_destroy(self, instance: SlaPolicy) -> None:
        try:
            sla_policies.delete_policy_version(policy=instance, user=self.request.user)
        except sla_policies.PolicyFrozen as exc:
            raise Conflict(str(exc)) from exc


class SlaRunViewSet(ScopedModelViewSet):
    """SLA runs: read-only records; ``POST`` to the list queues a new run (202)."""

    queryset = SlaRun.objects.prefetch_related("policies")
    serializer_class = SlaRunSerializer
    filterset_class = SlaRunFilterSet
    # A record of what happened: no PUT, PATCH or DELETE (405).
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(
        request=SlaRunStartSerializer,
        responses={202: SlaRunSerializer},
        parameters=[
            OpenApiParameter(
                "Location",
                str,
                OpenApiParameter.HEADER,
                response=[202],
                description="The queued run's URL (its `url`).",
            )
        ],
        summary="Start an SLA run",
        description=(
            "Queue a run of the engagement's tickets against its policy versions. Answers 202 "
            "with the queued run and its `progress_url`; 400 when there is nothing to measure "
            "(no policy version, no ticket) or a run is already queued or running; 403 for "
            "roles that may not start runs (observers)."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_add_anywhere(request.user, SlaRun):
            raise PermissionDenied("You may not start SLA runs.")
        payload = SlaRunStartSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        engagement = payload.validated_data["engagement"]
        if not can_add(request.user, SlaRun, engagement):
            raise PermissionDenied("Your role in this engagement may not start SLA runs.")
        try:
            run, _ = sla_runs.start_run(
                engagement=engagement,
                user=request.user,
                as_of=payload.validated_data.get("as_of"),
            )
        except sla_runs.RunRefused as exc:
            raise serializers.ValidationError({"engagement": [str(exc)]}) from exc
        run.refresh_from_db()
        body = self.get_serializer(run).data
        # str(): the serializer's url is a Hyperlink (a str subclass), which a WSGI server
        # refuses as a header value (gunicorn answered 500 after the run was queued).
        location = str(body["url"])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
