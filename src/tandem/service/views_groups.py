"""Mapping an engagement's assignment groups to sides in bulk: one page listing every group of
its tickets (ticket count, current side), a preview of the effect on parity, then one save.

Three steps on one URL, as ``POST``'s ``step`` says: ``preview`` (the default) checks the
choice and shows the effect; ``save`` writes it (``group_sides.set_sides``: one transaction,
each created or changed side audited) and comes back to the page with a message saying how
to measure again; ``edit`` goes back to the page with the same groups ticked. Only who may
change the engagement's terms (its sponsor and IT lead) gets the page: others 403, people
outside the engagement 404.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from tandem.analytics.group_sides import MappingEffect
from tandem.core.models import Engagement
from tandem.core.views.generic import EngagementMixin
from tandem.service import group_sides
from tandem.service.choices import GroupSide, MeasuredSide, Metric
from tandem.service.forms_groups import GroupMappingForm
from tandem.service.models import SlaRun

SIDE_LABELS = {**dict(MeasuredSide.choices), MeasuredSide.UNMAPPED: "Not set"}


class GroupMapView(LoginRequiredMixin, EngagementMixin, View):
    template_name = "service/assignmentgroup_map.html"

    def get_engagement_to_map(self) -> Engagement:
        engagement = self.get_engagement()  # 404 outside the user's engagements
        assert engagement is not None  # the URL always names one
        if not group_sides.may_map(self.request.user, engagement):
            raise PermissionDenied("Only the client's sponsor and IT lead change group sides.")
        return engagement

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        engagement = self.get_engagement_to_map()
        groups = group_sides.engagement_groups(engagement, request.user)
        form = GroupMappingForm(engagement=engagement, user=request.user, groups=groups)
        return self.render_page(engagement, groups, form)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        engagement = self.get_engagement_to_map()
        groups = group_sides.engagement_groups(engagement, request.user)
        form = GroupMappingForm(
            request.POST, engagement=engagement, user=request.user, groups=groups
        )
        step = request.POST.get("step", "preview")
        if step == "edit" or not form.is_valid():
            return self.render_page(engagement, groups, form, status=200 if step == "edit" else 422)
        choices = form.choices()
        if step != "save":
            effect, run = group_sides.mapping_effect(engagement, request.user, groups, choices)
            return self.render_page(engagement, groups, form, effect=effect, run=run)
        try:
            saved = group_sides.set_sides(
                engagement=engagement, user=request.user, choices=choices, groups=groups
            )
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.render_page(engagement, groups, form, status=422)
        except IntegrityError:  # another person mapped one of these groups at the same moment
            form.add_error(None, "These groups changed meanwhile: look again, then save.")
            return self.render_page(engagement, groups, form, status=409)
        has_run = SlaRun.latest_for(engagement.pk) is not None
        messages.success(request, saved_message(saved, engagement, has_run=has_run))
        return redirect(reverse("service:assignmentgroup_map", args=[engagement.pk]))

    def render_page(
        self,
        engagement: Engagement,
        groups: group_sides.EngagementGroups,
        form: GroupMappingForm,
        *,
        effect: MappingEffect | None = None,
        run: Any = None,
        status: int = 200,
    ) -> HttpResponse:
        selected = form.selected()
        context: dict[str, Any] = {
            "engagement": engagement,
            "title": "Map assignment groups",
            "form": form,
            "rows": [
                {"row": row, "checked": row.name in selected, "index": index}
                for index, row in enumerate(groups.rows)
            ],
            "groups": groups,
            "totals": side_totals(groups),
            "list_url": reverse("service:assignmentgroupside_list", args=[engagement.pk]),
            "runs_url": reverse("service:slarun_list", args=[engagement.pk]),
            "parity_url": reverse("service:sla_parity", args=[engagement.pk]),
        }
        if effect is not None:
            context.update(preview_context(form, groups, effect, run))
        return render(self.request, self.template_name, context, status=status)


def side_totals(groups: group_sides.EngagementGroups) -> list[dict[str, Any]]:
    """Groups and tickets per side as they are now (client, vendor, not set)."""
    totals = {side: {"groups": 0, "tickets": 0} for side in MeasuredSide.values}
    for row in groups.rows:
        side = row.side.side if row.side is not None else MeasuredSide.UNMAPPED
        totals[side]["groups"] += 1
        totals[side]["tickets"] += row.tickets
    return [{"side": side, "label": SIDE_LABELS[side], **totals[side]} for side in totals]


def preview_context(
    form: GroupMappingForm, groups: group_sides.EngagementGroups, effect: MappingEffect, run: Any
) -> dict[str, Any]:
    """What the preview card shows: the chosen groups and each side before and after."""
    side = form.cleaned_data["side"]
    vendor = form.cleaned_data.get("vendor")
    chosen = set(form.cleaned_data["groups"])
    changes = []
    for row in groups.rows:
        if row.name not in chosen:
            continue
        now = row.side.side if row.side is not None else MeasuredSide.UNMAPPED
        same = row.side is not None and now == side and row.side.vendor_id == (vendor and vendor.pk)
        changes.append({"row": row, "now": now, "now_label": SIDE_LABELS[now], "same": same})
    metric_labels = dict(Metric.choices)
    sides = []
    for change in effect.sides:
        metrics = [
            {
                "label": metric_labels.get(metric, metric),
                "before": percent(old.attainment),
                "after": percent(new.attainment),
                "before_count": old.count,
                "after_count": new.count,
                "delta": points(old.attainment, new.attainment),
            }
            for metric, old, new in change.clocks
        ]
        sides.append({"change": change, "label": SIDE_LABELS[change.side], "metrics": metrics})
    metrics = [metric_labels.get(m, m) for m, _, _ in effect.sides[0].clocks] if sides else []
    return {
        "effect": effect,
        "effect_sides": sides,
        "effect_metrics": metrics,
        "moved_share": percent(effect.measured_moved_share),
        "run": run,
        "changes": changes,
        "unchanged": sum(1 for change in changes if change["same"]),
        "new_side": side,
        "new_side_label": dict(GroupSide.choices)[side],
        "new_vendor": vendor,
    }


def percent(share: Fraction | None) -> str:
    """A share as a percentage with one decimal ("87.5%"), "—" for none."""
    if share is None:
        return "—"
    tenths = round(share * 1000)  # exact half-to-even on the fraction, then one place
    return f"{tenths / 10:,.1f}%"


def points(before: Fraction | None, after: Fraction | None) -> str:
    """The change in percentage points ("+2.5 pts"); "" when a side has no clocks either time
    or the change rounds to nothing."""
    if before is None or after is None:
        return ""
    tenths = round((after - before) * 1000)
    return f"{tenths / 10:+,.1f} pts" if tenths else ""


def saved_message(saved: group_sides.Saved, engagement: Engagement, *, has_run: bool) -> str:
    written = len(saved.written)
    if not written:
        return f"Nothing to change: {plural(len(saved.unchanged))} already had that side."
    already = f", {len(saved.unchanged):,} already so" if saved.unchanged else ""
    how = f"SLA runs → Run now, or “tandem run_sla --engagement {engagement.pk}”"
    next_step = (
        f"Parity still shows the sides of the latest SLA run: run the measurement again to "
        f"update it ({how})."
        if has_run
        else f"Measure the tickets to see parity with these sides ({how})."
    )
    return (
        f"Mapped {plural(written)} ({len(saved.created):,} new, {len(saved.changed):,} changed"
        f"{already}). {next_step}"
    )


def plural(count: int) -> str:
    return f"{count:,} assignment group{'' if count == 1 else 's'}"
