"""The bulk group-mapping form: which of the engagement's assignment groups, and which side.

Only groups the engagement has are offered (its tickets' groups and those with a side): a
posted name that is not one of them is an error on ``groups``, never a new group.
"""

from __future__ import annotations

from typing import Any

from django import forms

from tandem.core.models import Engagement
from tandem.service import group_sides
from tandem.service.choices import GroupSide


class GroupMappingForm(forms.Form):
    groups = forms.MultipleChoiceField(
        label="Assignment groups",
        error_messages={
            "required": "Choose at least one assignment group.",
            "invalid_choice": "“%(value)s” is not an assignment group of this engagement "
            "(none of its tickets or sides has it): choose from the list.",
        },
        widget=forms.MultipleHiddenInput,  # the page draws one checkbox per row of its table
    )
    side = forms.ChoiceField(
        label="Set their side to",
        choices=[("", "Choose a side…"), *GroupSide.choices],
        error_messages={"required": "Choose the side that works these groups."},
    )
    vendor = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label="Vendor",
        empty_label="No vendor named",
        help_text="Which vendor works them (vendor side only; left out for the client team).",
    )

    def __init__(
        self,
        data: Any = None,
        *,
        engagement: Engagement,
        user: Any,
        groups: group_sides.EngagementGroups,
    ) -> None:
        super().__init__(data)
        self.engagement = engagement
        self.engagement_groups = groups
        self.fields["groups"].choices = [(name, name) for name in groups.names]
        vendors = group_sides.vendor_parties(engagement, user)
        self.fields["vendor"].queryset = vendors
        only = list(vendors[:2])
        if len(only) == 1:  # the usual case: one vendor, named unless the user says otherwise
            self.fields["vendor"].initial = only[0].pk

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("side") == GroupSide.CLIENT:
            cleaned["vendor"] = None  # the client's own team: no vendor, whatever the select says
        return cleaned

    def choices(self) -> list[group_sides.SideChoice]:
        """The validated form as one choice per group."""
        side, vendor = self.cleaned_data["side"], self.cleaned_data.get("vendor")
        return [
            group_sides.SideChoice(group=name, side=side, vendor=vendor)
            for name in self.cleaned_data["groups"]
        ]

    def selected(self) -> set[str]:
        """The groups ticked in the posted data (valid or not): kept ticked when it comes back."""
        if not self.is_bound:
            return set()
        return set(self.data.getlist("groups")) if hasattr(self.data, "getlist") else set()
