"""Mapping many assignment groups to a side at once: the groups an engagement has, what a new
mapping would do to parity, and the all-or-nothing save.

The groups are the distinct values of the engagement's imported tickets (one aggregate
query, with each group's ticket count) plus the groups that have a side but no ticket (yet).
A mapping may name only those: a typo is an error, never a new group. The effect on parity
is ``tandem.analytics.group_sides`` over the latest finished SLA run's measured tickets and
stopped clocks per group (two more aggregate queries). Saving writes every created or
changed ``AssignmentGroupSide`` through its own ``save()`` in one transaction, so each gets
its audit record from the audit trail's signals (as the single-group form's save does) and
a failure leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Sum

from tandem.analytics import group_sides as engine
from tandem.core.access import can_add
from tandem.core.choices import Action, OrganizationKind
from tandem.core.models import Engagement, EngagementParty, Organization
from tandem.service.choices import AggregateLevel, GroupSide
from tandem.service.models import AssignmentGroupSide, SlaAggregate, SlaMeasurement, SlaRun, Ticket

#: The most groups one request may map (a real log has about 70; the page lists them all).
MAX_GROUPS = 2000


@dataclass(frozen=True)
class GroupRow:
    """One assignment group of the engagement: its ticket count and its side, if any."""

    name: str
    tickets: int
    side: AssignmentGroupSide | None


@dataclass(frozen=True)
class EngagementGroups:
    """Every group, most tickets first (then by name), and the tickets with no group."""

    rows: list[GroupRow]
    ungrouped_tickets: int

    @property
    def names(self) -> list[str]:
        return [row.name for row in self.rows]

    def sides(self) -> dict[str, str]:
        return {row.name: row.side.side for row in self.rows if row.side is not None}


@dataclass(frozen=True)
class SideChoice:
    """What to set one group to: a side, and the vendor working it (vendor side only)."""

    group: str
    side: str
    vendor: Organization | None = None


@dataclass(frozen=True)
class Saved:
    """What a bulk save did."""

    created: list[AssignmentGroupSide]
    changed: list[AssignmentGroupSide]
    unchanged: list[AssignmentGroupSide]

    @property
    def written(self) -> list[AssignmentGroupSide]:
        return [*self.created, *self.changed]


def may_map(user: Any, engagement: Engagement) -> bool:
    """May ``user`` map this engagement's groups? The ``terms`` area: its sponsor and IT lead
    (adding and changing sides go together there)."""
    return can_add(user, AssignmentGroupSide, engagement)


def engagement_groups(engagement: Engagement, user: Any) -> EngagementGroups:
    """The engagement's groups as ``user`` may see them: two queries whatever their number."""
    counts = (
        Ticket.objects.restrict(user, Action.VIEW)
        .filter(engagement_id=engagement.pk)
        .values("assignment_group")
        .annotate(tickets=Count("pk"))
        .order_by()
    )
    tickets = {row["assignment_group"]: row["tickets"] for row in counts}
    ungrouped = tickets.pop("", 0)
    sides = {
        side.assignment_group: side
        for side in AssignmentGroupSide.objects.restrict(user, Action.VIEW)
        .filter(engagement_id=engagement.pk)
        .select_related("vendor")
    }
    names = set(tickets) | set(sides)
    rows = [GroupRow(name, tickets.get(name, 0), sides.get(name)) for name in names]
    rows.sort(key=lambda row: (-row.tickets, row.name.casefold(), row.name))
    return EngagementGroups(rows=rows, ungrouped_tickets=ungrouped)


def vendor_parties(engagement: Engagement, user: Any) -> Any:
    """The vendors taking part in the engagement, as ``user`` may see them, by name."""
    parties = EngagementParty.objects.filter(engagement_id=engagement.pk)
    return (
        Organization.objects.restrict(user)
        .filter(kind=OrganizationKind.VENDOR, pk__in=parties.values("organization_id"))
        .order_by("name")
    )


def mapping_effect(
    engagement: Engagement, user: Any, groups: EngagementGroups, choices: Iterable[SideChoice]
) -> tuple[engine.MappingEffect, SlaRun | None]:
    """What the new sides would do, against the latest finished run (None: no run yet)."""
    run = SlaRun.latest_for(engagement.pk)
    measured: dict[str, int] = {}
    clocks: dict[str, dict[str, engine.Clocks]] = {}
    if run is not None:
        per_group = (
            SlaMeasurement.objects.restrict(user, Action.VIEW)
            .filter(run=run)
            .values("assignment_group")
            .annotate(tickets=Count("ticket", distinct=True))
            .order_by()
        )
        measured = {row["assignment_group"]: row["tickets"] for row in per_group}
        stopped = (
            SlaAggregate.objects.restrict(user, Action.VIEW)
            .filter(run=run, level=AggregateLevel.GROUP)
            .values("assignment_group", "metric")
            .annotate(count=Sum("count"), met=Sum("met"))
            .order_by()
        )
        for row in stopped:
            clocks.setdefault(row["assignment_group"], {})[row["metric"]] = engine.Clocks(
                row["count"], row["met"]
            )
    figures = [
        engine.GroupFigures(
            row.name,
            tickets=row.tickets,
            measured=measured.get(row.name, 0),
            clocks=clocks.get(row.name, {}),
        )
        for row in groups.rows
    ]
    before = groups.sides()
    after = before | {choice.group: choice.side for choice in choices}
    return engine.mapping_effect(figures, before, after), run


def check_choices(
    engagement: Engagement, groups: EngagementGroups, choices: Sequence[SideChoice]
) -> None:
    """The rules of a bulk mapping, as field errors (``ValidationError`` with a dict): only the
    engagement's groups, each once; a vendor only on the vendor side, and one taking part."""
    known = set(groups.names)
    named = {choice.vendor.pk for choice in choices if choice.vendor is not None}
    taking_part = (
        set(
            EngagementParty.objects.filter(
                engagement_id=engagement.pk,
                organization_id__in=named,
                organization__kind=OrganizationKind.VENDOR,
            ).values_list("organization_id", flat=True)
        )
        if named
        else set()
    )
    errors: dict[str, list[str]] = {}
    seen: set[str] = set()
    for choice in choices:
        if choice.group not in known:
            errors.setdefault("groups", []).append(
                f"“{choice.group[:200]}” is not an assignment group of this engagement "
                "(none of its tickets or sides has it): choose from the list."
            )
        elif choice.group in seen:
            errors.setdefault("groups", []).append(f"“{choice.group}” is named twice.")
        seen.add(choice.group)
        if choice.side not in GroupSide.values:
            errors.setdefault("side", []).append(f"Choose a side: {', '.join(GroupSide.values)}.")
        if choice.vendor is not None:
            if choice.side != GroupSide.VENDOR:
                errors.setdefault("vendor", []).append(
                    "Name a vendor only for groups the vendor works."
                )
            elif choice.vendor.pk not in taking_part:
                errors.setdefault("vendor", []).append(
                    "Choose a vendor taking part in this engagement."
                )
    if not choices:
        errors.setdefault("groups", []).append("Choose at least one assignment group.")
    if len(choices) > MAX_GROUPS:
        errors.setdefault("groups", []).append(f"At most {MAX_GROUPS:,} groups at once.")
    if errors:
        raise ValidationError({field: list(dict.fromkeys(msgs)) for field, msgs in errors.items()})


def set_sides(
    *,
    engagement: Engagement,
    user: Any,
    choices: Sequence[SideChoice],
    groups: EngagementGroups | None = None,
) -> Saved:
    """Give every chosen group its side (and vendor), all or nothing, each write audited.

    Raises ``ValidationError`` (field errors, nothing saved) when a choice breaks the rules of
    ``check_choices``. The caller has checked ``may_map``; ``groups`` is the engagement's, when
    the caller has read them already."""
    if groups is None:
        groups = engagement_groups(engagement, user)
    check_choices(engagement, groups, choices)
    created: list[AssignmentGroupSide] = []
    changed: list[AssignmentGroupSide] = []
    unchanged: list[AssignmentGroupSide] = []
    with transaction.atomic():
        existing = {
            side.assignment_group: side
            for side in AssignmentGroupSide.objects.select_for_update().filter(
                engagement_id=engagement.pk,
                assignment_group__in=[choice.group for choice in choices],
            )
        }
        for choice in choices:
            vendor_id = choice.vendor.pk if choice.vendor is not None else None
            side = existing.get(choice.group)
            if side is None:
                side = AssignmentGroupSide(
                    engagement=engagement,
                    assignment_group=choice.group,
                    side=choice.side,
                    vendor_id=vendor_id,
                )
                side.save()  # audited: a "create" record
                created.append(side)
            elif side.side == choice.side and side.vendor_id == vendor_id:
                unchanged.append(side)
            else:
                side.side, side.vendor_id = choice.side, vendor_id
                side.save()  # audited: an "update" record with before and after
                changed.append(side)
    return Saved(created=created, changed=changed, unchanged=unchanged)
