"""The UI shell: pages render for members, stay scoped, and writes leave an audit trail."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from tandem.core.choices import AuditAction, Role, Side
from tandem.core.models import (
    ChangeLog,
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)
from tandem.core.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_admin_mfa(settings):
    """Platform administrators must turn on TOTP first; these tests exercise the pages."""
    settings.TANDEM_REQUIRE_ADMIN_MFA = False


def records_for(obj) -> list[ChangeLog]:
    return list(
        ChangeLog.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk)
        )
    )


def member_pages(world) -> list[str]:
    e1 = world.e1
    party = EngagementParty.objects.get(engagement=e1, organization=world.acme)
    role = RoleAssignment.objects.get(engagement=e1, user=world.it_lead)
    record = ChangeLog.objects.filter(engagement_id=e1.pk).first()
    return [
        reverse("core:home"),
        reverse("core:engagement_list"),
        reverse("core:engagement_add"),
        reverse("core:engagement_detail", args=[e1.pk]),
        reverse("core:engagement_edit", args=[e1.pk]),
        reverse("core:engagement_history", args=[e1.pk]),
        reverse("core:engagementparty_list", args=[e1.pk]),
        reverse("core:engagementparty_add", args=[e1.pk]),
        reverse("core:engagementparty_detail", args=[party.pk]),
        reverse("core:engagementparty_edit", args=[party.pk]),
        reverse("core:engagementparty_delete", args=[party.pk]),
        reverse("core:engagementparty_history", args=[party.pk]),
        reverse("core:roleassignment_list", args=[e1.pk]),
        reverse("core:roleassignment_add", args=[e1.pk]),
        reverse("core:roleassignment_detail", args=[role.pk]),
        reverse("core:roleassignment_edit", args=[role.pk]),
        reverse("core:roleassignment_delete", args=[role.pk]),
        reverse("core:roleassignment_history", args=[role.pk]),
        reverse("core:organization_list"),
        reverse("core:organization_detail", args=[world.alpha.pk]),
        reverse("core:organization_history", args=[world.alpha.pk]),
        reverse("core:user_list"),
        reverse("core:user_detail", args=[world.sponsor.pk]),
        reverse("core:user_edit", args=[world.it_lead.pk]),
        reverse("core:user_history", args=[world.sponsor.pk]),
        reverse("core:changelog_list"),
        reverse("core:engagement_audit", args=[e1.pk]),
        reverse("core:changelog_detail", args=[record.pk]),
    ]


# --- every page renders ----------------------------------------------------------------------


def test_every_page_renders_for_the_it_lead(world, client_for):
    client = client_for(world.it_lead)
    for url in member_pages(world):
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"Tandem" in response.content, url


def test_admin_pages_render(world, client_for, no_admin_mfa):
    client = client_for(world.admin)
    urls = [
        reverse("core:organization_add"),
        reverse("core:organization_edit", args=[world.alpha.pk]),
        reverse("core:organization_delete", args=[world.crest.pk]),
        reverse("core:user_add"),
        reverse("core:user_edit", args=[world.sponsor.pk]),
        *member_pages(world),
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_signed_out_visitors_go_to_the_login_page(world, client):
    response = client.get(reverse("core:engagement_detail", args=[world.e1.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_login_page_is_a_tandem_card(client, db):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "entrance-card" in html
    assert "partnership office for healthcare IT outsourcing" in html
    assert "sign up" not in html.lower()


def test_sign_in_with_password_lands_on_home(world, client):
    response = client.post(
        reverse("account_login"),
        {"login": world.it_lead.email, "password": "correct-horse-battery"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.resolver_match.url_name == "home"
    assert world.e1.name in response.content.decode()


def test_account_pages_use_the_app_layout(world, client_for):
    client = client_for(world.it_lead)
    for name in ("account_change_password", "mfa_index"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        html = response.content.decode()
        assert 'class="topbar"' in html, name
        assert "tandem/tandem.css" in html


# --- home and navigation ---------------------------------------------------------------------


def test_home_shows_only_my_engagements(world, client_for):
    html = client_for(world.it_lead).get(reverse("core:home")).content.decode()
    assert world.e1.name in html
    assert world.e2.name not in html
    assert "IT lead" in html  # my role
    assert "Acme IT" in html  # a vendor

    html = client_for(world.outsider).get(reverse("core:home")).content.decode()
    assert world.e2.name in html
    assert world.e1.name not in html


def test_home_hides_the_other_vendor(world, client_for):
    html = client_for(world.rival).get(reverse("core:home")).content.decode()
    assert "Crest IT" in html
    assert "Acme IT" not in html


def test_base_layout_has_navigation_and_user_menu(world, client_for):
    html = client_for(world.it_lead).get(reverse("core:home")).content.decode()
    for url in (
        reverse("core:organization_list"),
        reverse("core:user_list"),
        reverse("core:changelog_list"),
        "/api/docs/",
        reverse("account_change_password"),
        reverse("mfa_index"),
    ):
        assert f'href="{url}"' in html, url
    assert f'method="post" action="{reverse("account_logout")}"' in html
    assert "htmx" in html  # the vendored script, not a CDN
    assert "cdn" not in html.lower()


def test_engagement_home_shows_phase_parties_people_activity_and_next(world, client_for):
    response = client_for(world.sponsor).get(reverse("core:engagement_detail", args=[world.e1.pk]))
    html = response.content.decode()
    assert 'class="sidenav"' in html
    assert 'aria-current="step"' in html
    assert "Operate" in html and "Exit or renew" in html  # current phase, next phase
    assert "What comes next" in html
    assert "Acme IT" in html and "itlead" in html
    assert "Recent activity" in html
    assert "Times in America/Chicago" in html


def test_engagement_home_hides_rival_vendor_party(world, client_for):
    html = (
        client_for(world.rival)
        .get(reverse("core:engagement_detail", args=[world.e1.pk]))
        .content.decode()
    )
    assert "Acme IT" not in html
    assert "Crest IT" in html


# --- scope: 404 outside, 403 for observers ----------------------------------------------------


def test_outsider_gets_404_everywhere_in_another_engagement(world, client_for):
    client = client_for(world.outsider)
    for url in member_pages(world)[3:18] + [reverse("core:engagement_audit", args=[world.e1.pk])]:
        assert client.get(url).status_code == 404, url


def test_outsider_cannot_read_the_audit_record(world, client_for):
    record = ChangeLog.objects.filter(engagement_id=world.e1.pk).first()
    response = client_for(world.outsider).get(reverse("core:changelog_detail", args=[record.pk]))
    assert response.status_code == 404


def test_observer_gets_403_on_writes(world, client_for):
    client = client_for(world.observer)
    e1 = world.e1
    party = EngagementParty.objects.get(engagement=e1, organization=world.acme)
    role = RoleAssignment.objects.get(engagement=e1, user=world.it_staff)
    for url in (
        reverse("core:engagement_edit", args=[e1.pk]),
        reverse("core:engagement_delete", args=[e1.pk]),
        reverse("core:engagementparty_add", args=[e1.pk]),
        reverse("core:engagementparty_edit", args=[party.pk]),
        reverse("core:engagementparty_delete", args=[party.pk]),
        reverse("core:roleassignment_add", args=[e1.pk]),
        reverse("core:roleassignment_edit", args=[role.pk]),
        reverse("core:roleassignment_delete", args=[role.pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"name": "x"}).status_code == 403, url
    assert Engagement.objects.filter(pk=e1.pk).exists()
    assert EngagementParty.objects.filter(pk=party.pk).exists()


def test_observer_sees_no_edit_buttons(world, client_for):
    html = (
        client_for(world.observer)
        .get(reverse("core:engagement_detail", args=[world.e1.pk]))
        .content.decode()
    )
    assert reverse("core:engagement_edit", args=[world.e1.pk]) not in html


def test_people_cannot_change_organizations(world, client_for):
    client = client_for(world.it_lead)
    assert client.get(reverse("core:organization_add")).status_code == 403
    assert client.get(reverse("core:organization_edit", args=[world.alpha.pk])).status_code == 403
    assert (
        client.post(reverse("core:organization_delete", args=[world.alpha.pk])).status_code == 403
    )
    assert client.get(reverse("core:organization_detail", args=[world.beta.pk])).status_code == 404
    assert client.get(reverse("core:user_add")).status_code == 403
    assert client.get(reverse("core:user_edit", args=[world.sponsor.pk])).status_code == 403


# --- engagements: create, edit, delete with audit ---------------------------------------------


def engagement_data(**overrides):
    data = {
        "name": "Alpha service desk",
        "kind": "full_outsourcing",
        "phase": "explore",
        "time_zone": "America/New_York",
        "currency": "usd",
        "start_date": "2026-01-01",
        "end_date": "2026-12-31",
        "description": "",
    }
    data.update(overrides)
    return data


def test_it_lead_starts_an_engagement_and_becomes_its_it_lead(world, client_for):
    client = client_for(world.it_lead)
    response = client.post(reverse("core:engagement_add"), engagement_data(client=world.alpha.pk))
    assert response.status_code == 302
    engagement = Engagement.objects.get(name="Alpha service desk")
    assert response["Location"] == engagement.get_absolute_url()
    assert engagement.currency == "USD"
    assert EngagementParty.objects.filter(
        engagement=engagement, organization=world.alpha, side=Side.CLIENT
    ).exists()
    assert RoleAssignment.objects.filter(
        engagement=engagement, user=world.it_lead, role=Role.IT_LEAD
    ).exists()
    [created] = records_for(engagement)
    assert created.action == AuditAction.CREATE
    assert created.user_id == world.it_lead.pk
    assert ("name", None, "Alpha service desk") in created.diff


def test_vendor_cannot_start_an_engagement(world, client_for):
    client = client_for(world.vendor_lead)
    assert client.get(reverse("core:engagement_add")).status_code == 403
    response = client.post(reverse("core:engagement_add"), engagement_data(client=world.alpha.pk))
    assert response.status_code == 403
    assert not Engagement.objects.filter(name="Alpha service desk").exists()


def test_client_choices_are_only_my_organization(world, client_for):
    response = client_for(world.it_lead).post(
        reverse("core:engagement_add"), engagement_data(client=world.beta.pk)
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Engagement.objects.filter(name="Alpha service desk").exists()


def test_sponsor_edits_the_engagement_and_the_change_is_audited(world, client_for):
    e1 = world.e1
    url = reverse("core:engagement_edit", args=[e1.pk])
    response = client_for(world.sponsor).post(
        url, engagement_data(name=e1.name, kind=e1.kind, phase="exit", time_zone=e1.time_zone)
    )
    assert response.status_code == 302
    e1.refresh_from_db()
    assert e1.phase == "exit"
    record = records_for(e1)[0]
    assert record.action == AuditAction.UPDATE
    assert ("phase", "operate", "exit") in record.diff
    history = client_for(world.sponsor).get(reverse("core:engagement_history", args=[e1.pk]))
    html = history.content.decode()
    assert "operate" in html and "exit" in html
    assert 'class="diff"' in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"kind": "timeshare"}, "kind"),
        ({"phase": "strategy"}, "phase"),  # an affiliation phase for an outsourcing kind
        ({"phase": "nonsense"}, "phase"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"currency": "dollars"}, "currency"),
        ({"currency": "U$D"}, "currency"),
        ({"currency": "XYZ"}, "currency"),
        ({"start_date": "2026-13-45"}, "start_date"),
        ({"start_date": "2026-05-01", "end_date": "2026-01-01"}, "end_date"),
        ({"description": "x" * 5001}, "description"),
    ],
)
def test_engagement_form_errors_are_422_inline_and_change_nothing(
    world, client_for, overrides, field
):
    e1 = world.e1
    before = (e1.name, e1.phase, e1.time_zone, e1.currency, e1.start_date)
    count = ChangeLog.objects.changes().count()
    data = engagement_data(name=e1.name, kind=e1.kind, phase=e1.phase, **{"currency": "EUR"})
    data.update(overrides)
    response = client_for(world.sponsor).post(reverse("core:engagement_edit", args=[e1.pk]), data)
    assert response.status_code == 422
    assert field in response.context["form"].errors
    html = response.content.decode()
    assert 'class="errorlist"' in html
    if overrides.get(field) and len(str(overrides[field])) < 50:
        assert str(overrides[field]) in html  # what was typed is kept
    e1.refresh_from_db()
    assert (e1.name, e1.phase, e1.time_zone, e1.currency, e1.start_date) == before
    assert ChangeLog.objects.changes().count() == count


def test_engagement_name_must_be_unique_per_client(world, client_for):
    client = client_for(world.it_lead)
    response = client.post(
        reverse("core:engagement_add"), engagement_data(name=world.e1.name, client=world.alpha.pk)
    )
    assert response.status_code == 422
    assert "already has an engagement" in response.content.decode()


def test_empty_and_garbage_posts_never_500(world, client_for):
    client = client_for(world.sponsor)
    e1 = world.e1
    party = EngagementParty.objects.get(engagement=e1, organization=world.acme)
    urls = [
        reverse("core:engagement_add"),
        reverse("core:engagement_edit", args=[e1.pk]),
        reverse("core:engagementparty_add", args=[e1.pk]),
        reverse("core:engagementparty_edit", args=[party.pk]),
        reverse("core:roleassignment_add", args=[e1.pk]),
        reverse("core:user_edit", args=[world.sponsor.pk]),
    ]
    payloads = [
        {},
        {"name": "\x00", "client": "abc", "organization": "1.5", "user": "-1", "role": "king"},
        {"name": "y" * 10000, "side": "x" * 300, "scope_summary": "z" * 1000, "note": "n" * 999},
        {"client": "999999", "organization": "999999", "user": "999999"},
    ]
    for url in urls:
        for payload in payloads:
            response = client.post(url, payload)
            assert response.status_code in (403, 422), (url, payload, response.status_code)


def test_admin_deletes_an_engagement_with_audit(world, client_for, no_admin_mfa):
    e2 = world.e2
    client = client_for(world.admin)
    response = client.post(reverse("core:engagement_delete", args=[e2.pk]))
    assert response.status_code == 302
    assert not Engagement.objects.filter(pk=e2.pk).exists()
    deleted = ChangeLog.objects.filter(
        action=AuditAction.DELETE, object_id=str(e2.pk), content_type__model="engagement"
    )
    assert deleted.exists()


def test_it_lead_may_not_delete_the_engagement(world, client_for):
    response = client_for(world.it_lead).post(reverse("core:engagement_delete", args=[world.e1.pk]))
    assert response.status_code == 403
    assert Engagement.objects.filter(pk=world.e1.pk).exists()


# --- parties and roles ------------------------------------------------------------------------


def test_it_lead_adds_edits_and_removes_a_party(world, client_for, no_admin_mfa):
    e1 = world.e1
    client = client_for(world.it_lead)
    # Beta Clinic, another client, is not visible to the IT lead: a forged id is refused.
    response = client.post(
        reverse("core:engagementparty_add", args=[e1.pk]),
        {"organization": world.beta.pk, "side": "client"},
    )
    assert response.status_code == 422
    assert not EngagementParty.objects.filter(engagement=e1, organization=world.beta).exists()
    # Beta Clinic is a party of e2 only; an administrator adds it as a client-side party to e1.
    admin = client_for(world.admin)
    response = admin.post(
        reverse("core:engagementparty_add", args=[e1.pk]),
        {"organization": world.beta.pk, "side": "vendor", "scope_summary": ""},
    )
    assert response.status_code == 422  # a practice cannot be a vendor
    assert "Only a vendor organization" in response.content.decode()
    response = admin.post(
        reverse("core:engagementparty_add", args=[e1.pk]),
        {"organization": world.bolt.pk, "side": "vendor", "scope_summary": "Service desk"},
    )
    assert response.status_code == 302
    party = EngagementParty.objects.get(engagement=e1, organization=world.bolt)
    assert records_for(party)[0].action == AuditAction.CREATE
    response = client.post(
        reverse("core:engagementparty_edit", args=[party.pk]),
        {"organization": world.bolt.pk, "side": "vendor", "scope_summary": "Desk and field"},
    )
    assert response.status_code == 302
    assert ("scope_summary", "Service desk", "Desk and field") in records_for(party)[0].diff
    response = client.post(reverse("core:engagementparty_delete", args=[party.pk]))
    assert response.status_code == 302
    assert not EngagementParty.objects.filter(pk=party.pk).exists()
    assert records_for(party)[0].action == AuditAction.DELETE


def test_party_choices_exclude_existing_parties(world, client_for, no_admin_mfa):
    response = client_for(world.admin).get(reverse("core:engagementparty_add", args=[world.e1.pk]))
    choices = set(response.context["form"].fields["organization"].queryset)
    assert world.acme not in choices and world.alpha not in choices
    assert world.bolt in choices


def test_role_choices_are_people_of_the_parties(world, client_for):
    stranger = UserFactory(email="x@bolt.test", organization=world.bolt)
    response = client_for(world.it_lead).get(reverse("core:roleassignment_add", args=[world.e1.pk]))
    people = set(response.context["form"].fields["user"].queryset)
    assert world.vendor_staff in people and world.it_staff in people
    assert stranger not in people and world.outsider not in people
    response = client_for(world.it_lead).post(
        reverse("core:roleassignment_add", args=[world.e1.pk]),
        {"user": world.outsider.pk, "role": "observer"},
    )
    assert response.status_code == 422
    assert not RoleAssignment.objects.filter(user=world.outsider, engagement=world.e1).exists()


def test_it_lead_assigns_a_role_and_it_is_audited(world, client_for):
    client = client_for(world.it_lead)
    url = reverse("core:roleassignment_add", args=[world.e1.pk])
    # a vendor person cannot hold a client-side role
    response = client.post(url, {"user": world.vendor_staff.pk, "role": "sponsor"})
    assert response.status_code == 422
    assert "client side" in response.content.decode()
    # a duplicate is an inline error, not an IntegrityError
    response = client.post(url, {"user": world.it_staff.pk, "role": "it_staff"})
    assert response.status_code == 422
    assert "already holds this role" in response.content.decode()
    response = client.post(url, {"user": world.it_staff.pk, "role": "observer", "note": "QA"})
    assert response.status_code == 302
    assignment = RoleAssignment.objects.get(user=world.it_staff, role="observer")
    [record] = records_for(assignment)
    assert record.engagement_id == world.e1.pk
    assert ("note", None, "QA") in record.diff


# --- organizations and people (platform administrators) ---------------------------------------


def test_admin_creates_edits_and_deletes_an_organization(world, client_for, no_admin_mfa):
    client = client_for(world.admin)
    data = {"name": "Delta Hospital", "kind": "hospital", "time_zone": "America/Denver"}
    response = client.post(reverse("core:organization_add"), {**data, "size": "120"})
    assert response.status_code == 422  # size without a unit
    assert "size_unit" in response.context["form"].errors
    response = client.post(
        reverse("core:organization_add"), {**data, "size": "120", "size_unit": "beds"}
    )
    assert response.status_code == 302
    delta = Organization.objects.get(name="Delta Hospital")
    response = client.post(
        reverse("core:organization_edit", args=[delta.pk]),
        {**data, "time_zone": "Not/A_Zone"},
    )
    assert response.status_code == 422
    response = client.post(
        reverse("core:organization_edit", args=[delta.pk]), {**data, "time_zone": "UTC"}
    )
    assert response.status_code == 302
    assert ("time_zone", "America/Denver", "UTC") in records_for(delta)[0].diff
    response = client.post(reverse("core:organization_delete", args=[delta.pk]))
    assert response["Location"] == reverse("core:organization_list")
    assert not Organization.objects.filter(pk=delta.pk).exists()


def test_deleting_an_organization_in_use_explains_why(world, client_for, no_admin_mfa):
    response = client_for(world.admin).post(
        reverse("core:organization_delete", args=[world.alpha.pk]), follow=True
    )
    assert response.status_code == 200
    assert "Cannot delete" in response.content.decode()
    assert Organization.objects.filter(pk=world.alpha.pk).exists()


def test_admin_creates_a_person_with_an_initial_password(world, client_for, no_admin_mfa):
    client = client_for(world.admin)
    data = {
        "email": "New.Person@Alpha.test",
        "full_name": "New Person",
        "organization": world.alpha.pk,
        "is_active": "on",
        "password1": "a-long-enough-passphrase",
        "password2": "a-long-enough-passphrase",
    }
    response = client.post(reverse("core:user_add"), {**data, "password2": "different"})
    assert response.status_code == 422
    response = client.post(reverse("core:user_add"), {**data, "email": world.sponsor.email})
    assert response.status_code == 422
    assert "already signs in" in response.content.decode()
    response = client.post(reverse("core:user_add"), data)
    assert response.status_code == 302
    person = User.objects.get(email="new.person@alpha.test")
    assert person.check_password("a-long-enough-passphrase")
    [record] = records_for(person)
    assert "password" not in (record.postchange_data or {})


def test_people_edit_only_their_own_profile(world, client_for):
    client = client_for(world.it_staff)
    url = reverse("core:user_edit", args=[world.it_staff.pk])
    response = client.get(url)
    assert "is_staff" not in response.context["form"].fields
    response = client.post(
        url, {"full_name": "Ida Staff", "job_title": "Analyst", "is_staff": "on"}
    )
    assert response.status_code == 302
    world.it_staff.refresh_from_db()
    assert world.it_staff.full_name == "Ida Staff"
    assert not world.it_staff.is_staff
    response = client.post(
        reverse("core:user_edit", args=[world.sponsor.pk]), {"full_name": "Hacked"}
    )
    assert response.status_code == 403


def test_person_page_lists_roles_the_viewer_can_see(world, client_for, no_admin_mfa):
    RoleAssignment.objects.create(engagement=world.e2, user=world.outsider, role=Role.OBSERVER)
    response = client_for(world.admin).get(reverse("core:user_detail", args=[world.outsider.pk]))
    assert {a.engagement for a in response.context["roles"]} == {world.e2}
    # The IT lead of e1 shares no engagement with Bolt's lead: the person is out of scope.
    response = client_for(world.it_lead).get(reverse("core:user_detail", args=[world.outsider.pk]))
    assert response.status_code == 404
    # Colleagues see each other's roles in the engagements they share.
    response = client_for(world.it_lead).get(reverse("core:user_detail", args=[world.sponsor.pk]))
    assert [a.role for a in response.context["roles"]] == [Role.SPONSOR]


# --- lists: filters, sorting, htmx partials, CSV -----------------------------------------------


def test_engagement_list_is_scoped_filterable_and_sortable(world, client_for, no_admin_mfa):
    client = client_for(world.admin)

    def rows(client, **params):
        response = client.get(reverse("core:engagement_list"), params)
        return [row.record for row in response.context["table"].page.object_list]

    assert rows(client, kind="practice_it") == [world.e2]
    assert rows(client, sort="-name") == [world.e2, world.e1]
    assert rows(client, sort="name") == [world.e1, world.e2]
    assert rows(client_for(world.it_lead)) == [world.e1]


def test_htmx_requests_get_only_the_table_region(world, client_for):
    client = client_for(world.it_lead)
    response = client.get(
        reverse("core:engagementparty_list", args=[world.e1.pk]),
        {"sort": "side"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'hx-target="#table-region"' in html
    assert "Acme IT" in html


def test_a_list_with_its_own_template_swaps_only_its_table_too(world, client_for):
    """The ticket list extends the generic list; its filters target #table-region."""
    from tandem.service.tests.factories import TicketFactory

    TicketFactory(engagement=world.e1, ticket_id="INC-SWAP")
    response = client_for(world.it_lead).get(
        reverse("service:ticket_list", args=[world.e1.pk]),
        {"priority": "P3"},
        headers={"HX-Request": "true", "HX-Target": "table-region"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "INC-SWAP" in html


def test_lists_survive_bad_query_strings(world, client_for):
    client = client_for(world.it_lead)
    for params in (
        {"page": "999"},
        {"page": "abc"},
        {"sort": "no_such_column"},
        {"engagement_id": "abc"},
        {"time_after": "yesterday"},
        {"request_id": "not-a-uuid"},
        {"action": "explode"},
    ):
        response = client.get(reverse("core:changelog_list"), params)
        assert response.status_code == 200, params


def test_audit_csv_export_is_scoped(world, client_for):
    response = client_for(world.outsider).get(reverse("core:changelog_list"), {"export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "Beta practice IT" in body or "Bolt IT" in body
    assert "Alpha" not in body


def test_engagement_audit_lists_only_that_engagement(world, client_for):
    response = client_for(world.it_lead).get(reverse("core:engagement_audit", args=[world.e1.pk]))
    rows = [row.record for row in response.context["table"].page.object_list]
    assert rows and all(r.engagement_id == world.e1.pk for r in rows)
    assert "Times in America/Chicago" in response.content.decode()


def test_engagement_audit_has_the_background_export_button_when_routed(world, client_for):
    from django.urls import NoReverseMatch

    response = client_for(world.it_lead).get(reverse("core:engagement_audit", args=[world.e1.pk]))
    html = response.content.decode()
    try:
        url = reverse("progress:export_audit", args=[world.e1.pk])
    except NoReverseMatch:
        assert "Export in background" not in html
    else:
        assert f'action="{url}"' in html


def test_change_record_detail_shows_who_when_and_fields(world, client_for):
    record = ChangeLog.objects.filter(
        engagement_id=world.e1.pk, content_type__model="engagement"
    ).first()
    html = (
        client_for(world.it_lead)
        .get(reverse("core:changelog_detail", args=[record.pk]))
        .content.decode()
    )
    assert str(record.request_id) in html
    assert record.user_name in html
    assert 'class="diff"' in html
    assert world.e1.name in html


def test_list_pages_keep_queries_bounded(world, client_for, django_assert_max_num_queries):
    client = client_for(world.it_lead)
    for n in range(15):
        person = UserFactory(email=f"p{n}@alpha.test", organization=world.alpha)
        RoleAssignment.objects.create(engagement=world.e1, user=person, role=Role.IT_STAFF)
    for url in (
        reverse("core:roleassignment_list", args=[world.e1.pk]),
        reverse("core:engagement_audit", args=[world.e1.pk]),
        reverse("core:changelog_list"),
        reverse("core:engagement_detail", args=[world.e1.pk]),
        reverse("core:home"),
    ):
        with django_assert_max_num_queries(20):
            assert client.get(url).status_code == 200


def test_filter_bar_keeps_the_sort_order(world, client_for):
    html = (
        client_for(world.it_lead)
        .get(reverse("core:changelog_list"), {"sort": "action"})
        .content.decode()
    )
    assert '<input type="hidden" name="sort" value="action">' in html
    assert 'hx-get="/audit/"' in html


def test_audit_filter_bar_names_the_time_range_plainly(world, client_for):
    html = client_for(world.it_lead).get(reverse("core:changelog_list")).content.decode()
    assert "<span>From</span>" in html and "<span>Until</span>" in html
    assert 'type="datetime-local"' in html
