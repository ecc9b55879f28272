"""Who may open an engagement: an organization-level right, never a role (issue 12, point 2).

A client organization's administrators (``User.may_open_engagements``, granted by a platform
administrator) open engagements for their organization; other people of the organization,
vendors and observers get 403 through the API and the UI, and see no button.
"""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tandem.core.access import can_add_anywhere, may_open_engagements
from tandem.core.choices import Role
from tandem.core.models import ChangeLog, Engagement, RoleAssignment, User
from tandem.core.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

ADD = reverse("core:engagement_add")
API = reverse("core-api:engagement-list")
NAME = "Alpha service desk"


@pytest.fixture(autouse=True)
def no_admin_mfa(settings):
    settings.TANDEM_REQUIRE_ADMIN_MFA = False


def form(**overrides):
    data = {
        "name": NAME,
        "kind": "full_outsourcing",
        "phase": "explore",
        "time_zone": "America/New_York",
        "currency": "USD",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "description": "",
    }
    return {**data, **overrides}


def assert_refused(user, world, client_for, api_for) -> None:
    before = Engagement.objects.count(), ChangeLog.objects.changes().count()
    payload = form(client=world.alpha.pk)
    client = client_for(user)
    assert client.get(ADD).status_code == 403
    assert client.post(ADD, payload).status_code == 403
    response = api_for(user).post(API, payload, format="json")
    assert response.status_code == 403
    assert "detail" in response.json()
    assert (Engagement.objects.count(), ChangeLog.objects.changes().count()) == before
    for page in (reverse("core:home"), reverse("core:engagement_list")):
        assert ADD not in client.get(page).content.decode(), page


@pytest.mark.parametrize("person", ["observer", "it_staff", "vendor_lead", "outsider"])
def test_people_without_the_right_get_403_and_no_button(person, world, client_for, api_for):
    assert_refused(getattr(world, person), world, client_for, api_for)


def test_only_the_worlds_organization_administrators_hold_the_right(world):
    holders = {
        name
        for name in ("sponsor", "it_lead", "it_staff", "vendor_lead", "vendor_staff", "observer")
        if can_add_anywhere(getattr(world, name), Engagement)
    }
    assert holders == {"sponsor", "it_lead"}
    assert can_add_anywhere(world.admin, Engagement)


@pytest.mark.parametrize("via", ["ui", "api"])
def test_a_holder_opens_an_engagement_and_becomes_its_it_lead(via, world, client_for, api_for):
    payload = form(client=world.alpha.pk)
    if via == "ui":
        assert ADD in client_for(world.sponsor).get(reverse("core:home")).content.decode()
        assert client_for(world.sponsor).get(ADD).status_code == 200
        response = client_for(world.sponsor).post(ADD, payload)
        assert response.status_code == 302
    else:
        response = api_for(world.sponsor).post(API, payload, format="json")
        assert response.status_code == 201, response.content
    engagement = Engagement.objects.get(name=NAME)
    assert RoleAssignment.objects.filter(
        engagement=engagement, user=world.sponsor, role=Role.IT_LEAD
    ).exists()


def test_the_right_is_void_for_an_observer_and_outside_a_client_organization(
    world, client_for, api_for
):
    # Granted by mistake (straight in the database): still refused, everywhere.
    User.objects.filter(pk__in=[world.observer.pk, world.vendor_lead.pk]).update(
        may_open_engagements=True
    )
    for user in (world.observer, world.vendor_lead):
        user.refresh_from_db()
        assert not may_open_engagements(user)
        assert_refused(user, world, client_for, api_for)
    # A client organization's administrator with no role yet may open the first engagement;
    # one who also holds a role besides observer keeps the right.
    newcomer = UserFactory(organization=world.alpha, may_open_engagements=True)
    assert may_open_engagements(newcomer)
    RoleAssignment.objects.create(engagement=world.e1, user=world.observer, role=Role.IT_STAFF)
    assert may_open_engagements(world.observer)
    newcomer.is_active = False
    assert not may_open_engagements(newcomer)


def user_records(person: User) -> list[ChangeLog]:
    return list(
        ChangeLog.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(person.pk)
        ).order_by("pk")
    )


def person_form(person: User, **overrides):
    data = {
        "email": person.email,
        "full_name": person.full_name,
        "job_title": person.job_title,
        "organization": person.organization_id,
        "is_active": "on",
    }
    return {**data, **overrides}


def test_a_platform_administrator_grants_and_revokes_it_in_the_person_form(world, client_for):
    admin = client_for(world.admin)
    url = reverse("core:user_edit", args=[world.it_staff.pk])
    assert "may_open_engagements" in admin.get(url).context["form"].fields
    response = admin.post(url, person_form(world.it_staff, may_open_engagements="on"))
    assert response.status_code == 302
    world.it_staff.refresh_from_db()
    assert world.it_staff.may_open_engagements
    assert ("may_open_engagements", False, True) in user_records(world.it_staff)[-1].diff
    assert client_for(world.it_staff).get(ADD).status_code == 200
    detail = admin.get(reverse("core:user_detail", args=[world.it_staff.pk])).content.decode()
    assert "Organization administrator" in detail

    response = admin.post(url, person_form(world.it_staff))  # unticked: revoked
    assert response.status_code == 302
    world.it_staff.refresh_from_db()
    assert not world.it_staff.may_open_engagements
    assert ("may_open_engagements", True, False) in user_records(world.it_staff)[-1].diff
    assert client_for(world.it_staff).get(ADD).status_code == 403


@pytest.mark.parametrize("person", ["observer", "vendor_lead"])
def test_the_form_refuses_to_grant_it_where_it_would_be_void(person, world, client_for):
    user = getattr(world, person)
    url = reverse("core:user_edit", args=[user.pk])
    response = client_for(world.admin).post(url, person_form(user, may_open_engagements="on"))
    assert response.status_code == 422
    assert "may_open_engagements" in response.context["form"].errors
    user.refresh_from_db()
    assert not user.may_open_engagements


def test_people_do_not_grant_it_to_themselves(world, client_for, api_for):
    own = reverse("core:user_edit", args=[world.it_staff.pk])
    response = client_for(world.it_staff).get(own)
    assert response.status_code == 200
    assert "may_open_engagements" not in response.context["form"].fields
    client_for(world.it_staff).post(own, person_form(world.it_staff, may_open_engagements="on"))
    detail = reverse("core-api:user-detail", args=[world.it_staff.pk])
    response = api_for(world.it_staff).patch(detail, {"may_open_engagements": True}, format="json")
    assert response.status_code == 400
    assert "may_open_engagements" in response.json()
    world.it_staff.refresh_from_db()
    assert not world.it_staff.may_open_engagements


def test_the_api_grants_it_audited_and_refuses_a_void_grant(world, api_for):
    api = api_for(world.admin)
    detail = reverse("core-api:user-detail", args=[world.it_staff.pk])
    response = api.patch(detail, {"may_open_engagements": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["may_open_engagements"] is True
    assert ("may_open_engagements", False, True) in user_records(world.it_staff)[-1].diff
    vendor = reverse("core-api:user-detail", args=[world.vendor_lead.pk])
    response = api.patch(vendor, {"may_open_engagements": True}, format="json")
    assert response.status_code == 400
    assert "client organization" in response.json()["may_open_engagements"][0]
    # Other edits of a holder are never blocked by the rule.
    response = api.patch(detail, {"job_title": "Analyst"}, format="json")
    assert response.status_code == 200
