"""The service app's one hand-edited model: which side works an assignment group."""

from __future__ import annotations

from typing import Any

from tandem.core.choices import OrganizationKind
from tandem.core.forms import UserBoundForm
from tandem.core.models import EngagementParty, Organization
from tandem.service.models import AssignmentGroupSide


class AssignmentGroupSideForm(UserBoundForm):
    """Vendors offered are the vendor parties of the engagement the user may see."""

    class Meta:
        model = AssignmentGroupSide
        fields = ["assignment_group", "side", "vendor"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parties = EngagementParty.objects.filter(engagement_id=self.instance.engagement_id)
        self.fields["vendor"].queryset = (
            Organization.objects.restrict(self.user)
            .filter(kind=OrganizationKind.VENDOR, pk__in=parties.values("organization_id"))
            .order_by("name")
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        group = cleaned.get("assignment_group")
        if group:
            clash = AssignmentGroupSide.objects.filter(
                engagement_id=self.instance.engagement_id, assignment_group=group
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("assignment_group", f"{group} already has a side.")
        return cleaned
