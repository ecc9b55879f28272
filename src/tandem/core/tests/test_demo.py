"""``tandem demo``: idempotent, every printed login works and sees only its engagements."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from tandem.core.access import can_add_anywhere
from tandem.core.choices import AuditSource, EngagementKind, OrganizationKind, Phase, Role
from tandem.core.demo.data import PASSWORD, PEOPLE
from tandem.core.models import (
    ChangeLog,
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)

pytestmark = pytest.mark.django_db

RIVERSIDE = "Riverside × Northwind managed services"
LAKESIDE = "Lakeside practice IT"
MODELS = (Organization, User, Engagement, EngagementParty, RoleAssignment)


def run_demo() -> str:
    out = io.StringIO()
    call_command("demo", "--no-serve", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def demo_output() -> str:
    return run_demo()


def test_running_the_demo_twice_duplicates_nothing(demo_output):
    first = counts()
    changes = ChangeLog.objects.changes().count()
    output = run_demo()
    assert counts() == first
    assert ChangeLog.objects.changes().count() == changes
    assert "nothing to add" in output
    assert first == {
        "Organization": 4,
        "User": 9,
        "Engagement": 2,
        "EngagementParty": 4,
        "RoleAssignment": 9,
    }


def test_every_printed_login_authenticates(demo_output):
    printed = set(re.findall(r"^(\S+@\S+\.example)\s+tandem-demo\s", demo_output, re.M))
    assert printed == {person.email for person in PEOPLE}
    assert "http://127.0.0.1:8000" in demo_output
    assert "two-factor" in demo_output
    for email in printed:
        user = authenticate(email=email, password=PASSWORD)
        assert user is not None, email
        assert user.full_name and user.job_title
    assert authenticate(email="lead@harbor.example", password="wrong") is None


def test_each_login_sees_exactly_the_engagements_its_role_allows(demo_output):
    expected = {
        "sponsor@riverside.example": {RIVERSIDE},
        "itlead@riverside.example": {RIVERSIDE},
        "itstaff@riverside.example": {RIVERSIDE},
        "auditor@riverside.example": {RIVERSIDE},
        "lead@northwind.example": {RIVERSIDE},
        "staff@northwind.example": {RIVERSIDE},
        "admin@lakeside.example": {LAKESIDE},
        "lead@harbor.example": {LAKESIDE},
        "admin@tandem.example": {RIVERSIDE, LAKESIDE},
    }
    for email, names in expected.items():
        user = User.objects.get(email=email)
        assert set(Engagement.objects.restrict(user).values_list("name", flat=True)) == names, email


def test_the_demo_people_and_roles(demo_output):
    riverside = Engagement.objects.get(name=RIVERSIDE)
    lakeside = Engagement.objects.get(name=LAKESIDE)

    def roles(email: str) -> set[tuple[str, str]]:
        return set(
            RoleAssignment.objects.filter(user__email=email).values_list("engagement__name", "role")
        )

    assert roles("auditor@riverside.example") == {(RIVERSIDE, Role.OBSERVER)}
    assert roles("admin@lakeside.example") == {(LAKESIDE, Role.SPONSOR), (LAKESIDE, Role.IT_LEAD)}
    assert roles("lead@harbor.example") == {(LAKESIDE, Role.VENDOR_LEAD)}
    auditor = User.objects.get(email="auditor@riverside.example")
    assert auditor.organization.name == "Riverside Health"
    admin = User.objects.get(email="admin@tandem.example")
    assert admin.is_staff and admin.is_superuser and admin.organization is None
    assert not RoleAssignment.objects.filter(user=admin).exists()

    assert riverside.kind == EngagementKind.BLENDED
    assert riverside.phase == Phase.OPERATE
    assert riverside.currency == "USD"
    assert riverside.time_zone == "America/Chicago"
    # Riverside starts with its dated tickets and SLA story, whatever day the demo loads.
    assert riverside.start_date == date(2025, 5, 1)
    assert riverside.end_date == date(2030, 4, 30)
    assert lakeside.kind == EngagementKind.PRACTICE_IT
    assert lakeside.phase == Phase.TRANSITION
    for engagement in (riverside, lakeside):
        assert engagement.description.startswith("Demo data set —")
    assert set(
        EngagementParty.objects.filter(engagement=riverside).values_list(
            "organization__name", "side"
        )
    ) == {("Riverside Health", "client"), ("Northwind Health IT", "vendor")}


def test_only_the_demo_organization_administrators_open_engagements(demo_output, client):
    holders = {u.email for u in User.objects.all() if can_add_anywhere(u, Engagement)}
    assert holders == {
        "sponsor@riverside.example",
        "itlead@riverside.example",
        "admin@lakeside.example",
        "admin@tandem.example",  # the platform administrator opens any client's engagement
    }
    assert set(User.objects.filter(may_open_engagements=True).values_list("email", flat=True)) == (
        holders - {"admin@tandem.example"}
    )
    # The internal auditor reads everything and opens nothing.
    assert client.login(email="auditor@riverside.example", password=PASSWORD)
    assert client.get(reverse("core:engagement_add")).status_code == 403
    assert "(opens engagements)" in demo_output


def test_a_demo_loaded_before_the_right_gains_it_once(demo_output):
    User.objects.update(may_open_engagements=False)
    run_demo()
    assert User.objects.filter(may_open_engagements=True).count() == 3
    changes = ChangeLog.objects.changes().count()
    assert "nothing to add" in run_demo()
    assert ChangeLog.objects.changes().count() == changes


def test_the_demo_organizations(demo_output):
    riverside = Organization.objects.get(name="Riverside Health")
    assert riverside.kind == OrganizationKind.HEALTH_SYSTEM
    assert (riverside.size, riverside.size_unit) == (900, "beds")
    for hospital in ("Riverside Medical Center", "Riverside North", "Riverside Lakeview"):
        assert hospital in riverside.notes
    lakeside = Organization.objects.get(name="Lakeside Family Medicine")
    assert lakeside.kind == OrganizationKind.PRACTICE
    assert (lakeside.size, lakeside.size_unit) == (12, "providers")
    assert lakeside.time_zone == "America/Chicago"
    assert all(o.notes.startswith("Demo organization") for o in Organization.objects.all())


def test_the_audit_trail_shows_the_demo_command(demo_output):
    records = ChangeLog.objects.filter(source=AuditSource.COMMAND)
    assert records.count() >= 26
    assert set(records.values_list("user_name", flat=True)) == {"tandem demo"}
    riverside = Engagement.objects.get(name=RIVERSIDE)
    assert records.filter(engagement_id=riverside.pk).exists()


def test_a_changed_demo_password_is_kept(demo_output):
    user = User.objects.get(email="itlead@riverside.example")
    user.set_password("a-new-secret-of-marcus")
    user.save()
    run_demo()
    assert authenticate(email=user.email, password="a-new-secret-of-marcus") is not None


def test_bad_options_are_refused():
    with pytest.raises(CommandError):
        call_command("demo", "--no-serve", "--port", "0")
    with pytest.raises(CommandError):
        call_command("demo", "--no-serve", "--host", "not a host")
