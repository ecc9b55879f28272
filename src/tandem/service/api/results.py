"""The API of what SLA runs stored: measurements, aggregates and credit lines (read-only bulk
data, written only by runs) and the internal-vs-vendor parity of a run."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tandem.core.api.serializers import ScopedModelSerializer
from tandem.core.choices import Action
from tandem.core.models import Engagement
from tandem.service import filtersets_results, results
from tandem.service.api.views import ReadOnlyScopedViewSet
from tandem.service.choices import MeasuredSide, Metric, Priority, RunStatus
from tandem.service.models import ServiceCredit, SlaAggregate, SlaMeasurement, SlaRun

# Serializers ---------------------------------------------------------------------------------


class SlaMeasurementSerializer(ScopedModelSerializer):
    class Meta:
        model = SlaMeasurement
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "run",
            "ticket",
            "ticket_number",
            "metric",
            "priority",
            "assignment_group",
            "side",
            "month",
            "policy_version",
            "elapsed_seconds",
            "target_seconds",
            "met",
        ]
        read_only_fields = fields


class SlaAggregateSerializer(ScopedModelSerializer):
    # Declared: DRF drops allow_blank from read-only model fields, and rows of the priority
    # level have no side ("").
    side = serializers.ChoiceField(
        choices=MeasuredSide.choices,
        allow_blank=True,
        read_only=True,
        help_text="Group and side rows: whose team; empty on priority rows.",
    )
    attainment = serializers.FloatField(read_only=True, help_text="met / count, in [0, 1].")
    missed_goal = serializers.BooleanField(
        read_only=True, help_text="Below goal, exactly: met < goal × count."
    )

    class Meta:
        model = SlaAggregate
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "run",
            "level",
            "month",
            "metric",
            "priority",
            "assignment_group",
            "side",
            "count",
            "met",
            "goal",
            "attainment",
            "missed_goal",
            "median_seconds",
            "p90_seconds",
        ]
        read_only_fields = fields


class ServiceCreditSerializer(ScopedModelSerializer):
    class Meta:
        model = ServiceCredit
        fields = [
            "id",
            "url",
            "display",
            "engagement",
            "run",
            "month",
            "metric",
            "priority",
            "policy_version",
            "count",
            "met",
            "goal",
            "missed",
            "allocation_percent",
            "currency",
            "credit",
            "capped",
            "earn_back_until",
            "earned_back",
            "due",
        ]
        read_only_fields = fields


# Viewsets ----------------------------------------------------------------------------------


class SlaMeasurementViewSet(ReadOnlyScopedViewSet):
    """One ticket × metric of an SLA run: business seconds elapsed against the target. An
    empty `month` is a clock still open at the run's `as_of`. Read-only."""

    queryset = SlaMeasurement.objects.all()
    serializer_class = SlaMeasurementSerializer
    filterset_class = filtersets_results.SlaMeasurementFilterSet


class SlaAggregateViewSet(ReadOnlyScopedViewSet):
    """Count, met, goal, median and p90 of a run's stopped clocks per month × metric ×
    priority (`level` priority), per side, and per assignment group. Read-only."""

    queryset = SlaAggregate.objects.all()
    serializer_class = SlaAggregateSerializer
    filterset_class = filtersets_results.SlaAggregateFilterSet


class ServiceCreditViewSet(ReadOnlyScopedViewSet):
    """A run's service-credit lines: month × target, credit, cap, earn-back and what is due
    (money as decimal strings). Read-only."""

    queryset = ServiceCredit.objects.all()
    serializer_class = ServiceCreditSerializer
    filterset_class = filtersets_results.ServiceCreditFilterSet


# Parity ------------------------------------------------------------------------------------


class ParityQuerySerializer(serializers.Serializer):
    engagement_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    run_id = serializers.IntegerField(
        min_value=1,
        max_value=2**63 - 1,
        required=False,
        help_text="A finished run of the engagement; default: its latest finished run.",
    )
    metric = serializers.MultipleChoiceField(choices=Metric.choices, required=False)
    priority = serializers.MultipleChoiceField(choices=Priority.choices, required=False)
    alpha = serializers.FloatField(min_value=0.0001, max_value=0.5, required=False, default=0.05)


def _row_fields(with_month: bool) -> dict[str, serializers.Field]:
    fields: dict[str, serializers.Field] = {}
    if with_month:
        fields["month"] = serializers.DateField(help_text="First day of the month.")
    fields.update(
        metric=serializers.ChoiceField(choices=Metric.choices),
        priority=serializers.ChoiceField(choices=Priority.choices),
    )
    for side in ("client", "vendor"):
        fields[f"{side}_count"] = serializers.IntegerField()
        fields[f"{side}_met"] = serializers.IntegerField()
        fields[f"{side}_attainment"] = serializers.FloatField(allow_null=True)
        fields[f"{side}_median_seconds"] = serializers.IntegerField(allow_null=True)
    fields.update(
        gap=serializers.FloatField(
            allow_null=True, help_text="Vendor attainment minus client attainment (fraction)."
        ),
        test=serializers.ChoiceField(choices=["fisher", "z"], allow_null=True),
        p_value=serializers.FloatField(allow_null=True, help_text="Two-sided."),
        significant=serializers.BooleanField(allow_null=True),
        verdict=serializers.CharField(help_text='E.g. "vendor significantly worse (p = 0.003)".'),
    )
    return fields


ROW_KEYS = [*_row_fields(True)]


@extend_schema_serializer(many=False)  # one object, although the viewset's action is "list"
class SlaParitySerializer(serializers.Serializer):
    """What ``GET /sla-parity/`` answers (built by the view; for the schema)."""

    engagement = serializers.IntegerField()
    run = serializers.IntegerField()
    as_of = serializers.DateTimeField()
    alpha = serializers.FloatField()
    unmapped_clocks = serializers.IntegerField(
        help_text="Stopped clocks of groups mapped to no side: left out of parity."
    )
    months = inline_serializer(name="SlaParityMonth", fields=_row_fields(True), many=True)
    period = inline_serializer(name="SlaParityPeriod", fields=_row_fields(False), many=True)


ID = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}


class SlaParityViewSet(viewsets.ViewSet):
    """Internal vs vendor parity of a run (no stored rows: computed from its clocks)."""

    @extend_schema(
        summary="Client team vs vendor attainment, with the gap and its significance",
        description=(
            "Per month × metric × priority (`months`) and over the whole run (`period`): each "
            "side's stopped clocks, met, attainment and median; the gap (vendor minus client); "
            "the two-sided p-value of Fisher's exact test (small tables) or the pooled "
            "two-proportion z-test; `significant` when p < alpha. Clocks of groups mapped to no "
            "side are left out (`unmapped_clocks`). Default run: the engagement's latest "
            "finished one; 404 when there is none or the engagement is not yours."
        ),
        parameters=[
            OpenApiParameter("engagement_id", ID, required=True),
            OpenApiParameter("run_id", ID, required=False),
            OpenApiParameter("metric", str, many=True, enum=Metric.values, required=False),
            OpenApiParameter("priority", str, many=True, enum=Priority.values, required=False),
            OpenApiParameter(
                "alpha",
                {"type": "number", "minimum": 0.0001, "maximum": 0.5},
                required=False,
                default=0.05,
            ),
        ],
        responses={
            200: SlaParitySerializer,
            404: OpenApiResponse(
                description="No such engagement or run, not yours, or no finished run yet."
            ),
        },
    )
    def list(self, request: Request) -> Response:
        query = ParityQuerySerializer(
            data={
                **{
                    k: v for k, v in request.query_params.items() if k not in ("metric", "priority")
                },
                **{
                    k: request.query_params.getlist(k)
                    for k in ("metric", "priority")
                    if k in request.query_params
                },
            }
        )
        if not query.is_valid():
            raise ValidationError(query.errors)
        params: dict[str, Any] = query.validated_data
        engagement = get_object_or_404(
            Engagement.objects.restrict(request.user, Action.VIEW), pk=params["engagement_id"]
        )
        runs = SlaRun.objects.restrict(request.user, Action.VIEW).filter(
            engagement=engagement, status=RunStatus.DONE
        )
        if "run_id" in params:
            run = get_object_or_404(runs, pk=params["run_id"])
        else:
            run = runs.order_by("-started_at", "-pk").first()
            if run is None:
                return Response({"detail": "This engagement has no finished SLA run."}, 404)
        report = results.parity_report(
            run,
            metrics=sorted(params.get("metric") or []) or None,
            priorities=sorted(params.get("priority") or []) or None,
            alpha=params["alpha"],
        )
        return Response(
            {
                "engagement": engagement.pk,
                "run": run.pk,
                "as_of": run.as_of,
                "alpha": report.alpha,
                "unmapped_clocks": report.unmapped_clocks,
                "months": [_row(r, ROW_KEYS) for r in report.months],
                "period": [_row(r, [k for k in ROW_KEYS if k != "month"]) for r in report.period],
            }
        )


def _row(row: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    return {key: row.get(key) for key in keys}
