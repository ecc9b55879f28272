"""``POST /api/v1/service/assignment-group-sides/bulk/``: many groups' sides in one request.

The same rules as the bulk mapping page (``tandem.service.group_sides``): only the
engagement's groups (its tickets' and those with a side; names exact, no new group by a
typo), each once, a vendor only on the vendor side; all or nothing, every created or changed
side audited. Only who may change the engagement's terms (its sponsor and IT lead) may call
it: 403 for every other role, 400 naming ``engagement`` for an engagement the caller cannot
see.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from tandem.core.access import can_add_anywhere
from tandem.core.api.fields import ScopedPrimaryKeyRelatedField, StrictCharField
from tandem.core.models import Engagement, Organization
from tandem.service import group_sides
from tandem.service.api.serializers import AssignmentGroupSideSerializer
from tandem.service.choices import GroupSide
from tandem.service.models import AssignmentGroupSide


class GroupSideChoiceSerializer(serializers.Serializer):
    """One group and the side to give it."""

    assignment_group = StrictCharField(
        max_length=200,
        trim_whitespace=False,
        help_text="A group of the engagement, exactly as its tickets or sides name it.",
    )
    side = serializers.ChoiceField(choices=GroupSide.choices)
    vendor = ScopedPrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        allow_null=True,
        help_text="The vendor working the group (a vendor of the engagement; vendor side "
        "only). Absent or null: none named.",
    )


class GroupSidesBulkSerializer(serializers.Serializer):
    """What ``POST /assignment-group-sides/bulk/`` takes."""

    engagement = ScopedPrimaryKeyRelatedField(queryset=Engagement.objects.all())
    groups = GroupSideChoiceSerializer(
        many=True, allow_empty=False, max_length=group_sides.MAX_GROUPS
    )


class GroupSidesBulkResultSerializer(serializers.Serializer):
    """What the bulk mapping did: counts and the sides of every group named."""

    created = serializers.IntegerField(help_text="Groups that had no side before.")
    changed = serializers.IntegerField(help_text="Groups whose side or vendor changed.")
    unchanged = serializers.IntegerField(help_text="Groups that already had this side.")
    detail = serializers.CharField(help_text="What to do next: measure again to update parity.")
    sides = AssignmentGroupSideSerializer(many=True)


class GroupSidesBulkMixin:
    """The ``bulk`` action of the assignment-group-sides viewset."""

    @extend_schema(
        request=GroupSidesBulkSerializer,
        responses={200: GroupSidesBulkResultSerializer},
        summary="Set the side of many assignment groups at once",
        description=(
            "Give each named group of the engagement its side (and vendor), all or nothing: "
            "one transaction, every created or changed side in the audit trail. Only the "
            "engagement's groups (those of its imported tickets, and those that already have "
            "a side), each named once and exactly: an unknown name is a 400 on `groups` and "
            "nothing is saved. 403 for roles that may not change the engagement's terms (every "
            "role but its sponsor and IT lead). Parity changes with the next SLA run."
        ),
    )
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not can_add_anywhere(request.user, AssignmentGroupSide):
            raise PermissionDenied("You may not change assignment-group sides.")
        payload = GroupSidesBulkSerializer(
            data=request.data,
            context=self.get_serializer_context(),  # type: ignore[attr-defined]
        )
        payload.is_valid(raise_exception=True)
        engagement = payload.validated_data["engagement"]
        if not group_sides.may_map(request.user, engagement):
            raise PermissionDenied("Your role in this engagement may not change group sides.")
        choices = [
            group_sides.SideChoice(
                group=item["assignment_group"], side=item["side"], vendor=item.get("vendor")
            )
            for item in payload.validated_data["groups"]
        ]
        # A rule broken (unknown group, vendor on the client side...) raises Django's
        # ValidationError: the API's error handler answers 400 with the fields named.
        saved = group_sides.set_sides(engagement=engagement, user=request.user, choices=choices)
        context = self.get_serializer_context()  # type: ignore[attr-defined]
        body = {
            "created": len(saved.created),
            "changed": len(saved.changed),
            "unchanged": len(saved.unchanged),
            "detail": (
                "Parity shows the sides of the latest SLA run: start a new run to update it "
                f"(POST /api/v1/service/sla-runs/ with engagement {engagement.pk})."
                if saved.written
                else "Nothing to change: every group already had that side."
            ),
            "sides": AssignmentGroupSideSerializer(
                [*saved.written, *saved.unchanged], many=True, context=context
            ).data,
        }
        return Response(body, status=status.HTTP_200_OK)
