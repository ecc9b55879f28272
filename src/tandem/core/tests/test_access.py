"""The permission table and the restricted querysets, below the views."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from tandem.core.access import _TABLE, PERMISSIONS, _parse, can, can_add, roles_allowed
from tandem.core.choices import Action, Role
from tandem.core.models import (
    ChangeLog,
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)


def test_the_table_covers_every_role_in_every_area() -> None:
    for area, row in PERMISSIONS.items():
        assert set(row) == {str(r) for r in Role}, area
        for role, actions in row.items():
            assert Action.VIEW in actions, f"{role} cannot view {area}"


def test_observers_only_ever_view() -> None:
    for area, row in PERMISSIONS.items():
        assert row[Role.OBSERVER] == {Action.VIEW}, area


def test_a_malformed_table_is_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        _parse("area a b\nx v v\n")
    with pytest.raises(ValueError, match="unknown permission area"):
        roles_allowed("nowhere", Action.VIEW)


def test_vendors_approve_nothing_the_client_approves() -> None:
    assert Role.VENDOR_LEAD not in roles_allowed("engagement", Action.APPROVE)
    assert Role.SPONSOR in roles_allowed("approvals", Action.APPROVE)


@pytest.mark.django_db
class TestRestrict:
    def test_anonymous_and_inactive_see_nothing(self, world) -> None:
        assert not Engagement.objects.restrict(AnonymousUser()).exists()
        world.it_lead.is_active = False
        assert not Engagement.objects.restrict(world.it_lead).exists()

    def test_a_role_is_the_only_way_in(self, world) -> None:
        assert list(Engagement.objects.restrict(world.vendor_staff)) == [world.e1]
        assert list(Engagement.objects.restrict(world.outsider)) == [world.e2]
        nobody = User.objects.create_user("nobody@example.org", "x", full_name="Nobody")
        assert not Engagement.objects.restrict(nobody).exists()

    def test_platform_admins_see_everything(self, world) -> None:
        assert Engagement.objects.restrict(world.admin).count() == 2

    def test_change_rights_follow_the_table(self, world) -> None:
        assert can(world.it_lead, Action.CHANGE, world.e1)
        assert can(world.sponsor, Action.APPROVE, world.e1)
        assert not can(world.observer, Action.CHANGE, world.e1)
        assert not can(world.vendor_lead, Action.CHANGE, world.e1)
        assert not can(world.it_lead, Action.DELETE, world.e1)
        assert not can(world.it_lead, Action.CHANGE, world.e2)
        assert can_add(world.it_lead, RoleAssignment, world.e1)
        assert not can_add(world.vendor_lead, RoleAssignment, world.e1)
        assert not can_add(world.it_lead, RoleAssignment, world.e2)

    def test_vendors_do_not_see_each_other(self, world) -> None:
        parties = EngagementParty.objects.restrict(world.vendor_lead)
        names = {p.organization.name for p in parties}
        assert names == {"Alpha Health", "Acme IT"}
        client_view = {p.organization.name for p in EngagementParty.objects.restrict(world.it_lead)}
        assert client_view == {"Alpha Health", "Acme IT", "Crest IT"}
        people = set(User.objects.restrict(world.vendor_lead).values_list("email", flat=True))
        assert "lead@crest.test" not in people
        assert "itlead@alpha.test" in people
        assert "lead@bolt.test" not in people
        orgs = set(Organization.objects.restrict(world.vendor_lead).values_list("name", flat=True))
        assert orgs == {"Alpha Health", "Acme IT"}

    def test_audit_records_follow_the_rows(self, world) -> None:
        visible = ChangeLog.objects.restrict(world.vendor_lead)
        assert visible.exists()
        assert not visible.filter(engagement_id=world.e2.pk).exists()
        assert not visible.filter(owner_organization=world.crest).exists()
        assert (
            ChangeLog.objects.restrict(world.it_lead)
            .filter(owner_organization=world.crest)
            .exists()
        )
        assert not ChangeLog.objects.restrict(world.it_lead, Action.CHANGE).exists()


@pytest.mark.django_db
def test_an_it_lead_can_reach_a_new_vendor_and_its_people(world) -> None:
    from tandem.core.testing.factories import OrganizationFactory, UserFactory

    newcomer = OrganizationFactory(name="Delta IT", kind="vendor")
    engineer = UserFactory(email="eng@delta.test", organization=newcomer)
    assert newcomer in Organization.objects.restrict(world.it_lead)
    assert engineer not in User.objects.restrict(world.it_lead)  # not a party yet
    EngagementParty.objects.create(engagement=world.e1, organization=newcomer, side="vendor")
    assert engineer in User.objects.restrict(world.it_lead)
    # Staff without the right to assign roles, and other vendors, still do not see them.
    assert newcomer not in Organization.objects.restrict(world.vendor_lead)
    assert engineer not in User.objects.restrict(world.it_staff)


def test_the_documented_table_is_the_table() -> None:
    """docs/permissions.md gives every row's reasons: it must show the rows the code applies."""
    docs = Path(__file__).resolve().parents[4] / "docs" / "permissions.md"
    text = docs.read_text(encoding="utf-8")
    block = text.split("```\n", 2)[1]
    assert _parse(block) == PERMISSIONS
    assert block.split() == _TABLE.split()
