"""Writes that touch several rows: one function each, keyword-only, in one transaction.

Views and serializers call these; the audit trail is written by the model signals inside
the same transaction.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tandem.core.access import can_add_anywhere, is_platform_admin
from tandem.core.choices import Role, Side
from tandem.core.models import Engagement, EngagementParty, Organization, RoleAssignment, User


class NotAllowed(Exception):
    """The acting user may not do this."""


def can_create_engagement(user: User) -> bool:
    """Platform administrators, and a client organization's administrators (people holding
    ``may_open_engagements``) for their organization."""
    return can_add_anywhere(user, Engagement)


@transaction.atomic
def create_engagement(*, actor: User, engagement: Engagement) -> Engagement:
    """Save a new engagement with its client as the client party.

    A non-administrator creating an engagement for their own organization becomes its IT
    lead, so that someone can manage it from the first minute.
    """
    if not can_create_engagement(actor):
        raise NotAllowed(
            "Only your organization's administrators can open engagements; a platform "
            "administrator grants the right."
        )
    if not is_platform_admin(actor) and engagement.client_id != actor.organization_id:
        raise NotAllowed("You can start engagements only for your own organization.")
    engagement.full_clean()
    engagement.save()
    EngagementParty.objects.create(
        engagement=engagement, organization_id=engagement.client_id, side=Side.CLIENT
    )
    if not is_platform_admin(actor):
        RoleAssignment.objects.create(engagement=engagement, user=actor, role=Role.IT_LEAD)
    return engagement


@transaction.atomic
def add_party(
    *, engagement: Engagement, organization: Organization, side: str, scope_summary: str = ""
) -> EngagementParty:
    party = EngagementParty(
        engagement=engagement, organization=organization, side=side, scope_summary=scope_summary
    )
    party.full_clean()
    party.save()
    return party


@transaction.atomic
def assign_role(*, engagement: Engagement, user: User, role: str, note: str = "") -> RoleAssignment:
    assignment = RoleAssignment(engagement=engagement, user=user, role=role, note=note)
    assignment.full_clean()
    assignment.save()
    return assignment


def engagement_people(engagement: Engagement, viewer: Any) -> Any:
    """The role assignments of ``engagement`` that ``viewer`` may see, people first."""
    return (
        RoleAssignment.objects.restrict(viewer)
        .filter(engagement=engagement)
        .select_related("user", "user__organization")
        .order_by("user__full_name", "role")
    )
