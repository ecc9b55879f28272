"""Access-test makers for the core's engagement-scoped models."""

from __future__ import annotations

from tandem.core.choices import Role, Side
from tandem.core.models import (
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)
from tandem.core.testing.factories import UserFactory
from tandem.core.testing.registry import register


@register(Engagement)
def make_engagement(engagement: Engagement, owner: Organization) -> Engagement:
    return engagement


@register(EngagementParty)
def make_party(engagement: Engagement, owner: Organization) -> EngagementParty:
    side = Side.VENDOR if owner.is_vendor else Side.CLIENT
    party, _ = EngagementParty.objects.get_or_create(
        engagement=engagement, organization=owner, defaults={"side": side}
    )
    return party


@register(RoleAssignment)
def make_role(engagement: Engagement, owner: Organization) -> RoleAssignment:
    make_party(engagement, owner)
    user: User = UserFactory(organization=owner)
    role = Role.VENDOR_STAFF if owner.is_vendor else Role.IT_STAFF
    return RoleAssignment.objects.create(engagement=engagement, user=user, role=role)
