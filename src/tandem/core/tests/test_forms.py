"""Forms restrict their choices to what the user may see and validate what people type."""

from __future__ import annotations

import pytest

from tandem.core.choices import Role
from tandem.core.forms import (
    EngagementForm,
    EngagementPartyForm,
    OrganizationForm,
    PersonForm,
    RoleAssignmentForm,
)
from tandem.core.models import Engagement, EngagementParty, RoleAssignment
from tandem.core.testing.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def engagement_data(**overrides):
    data = {
        "name": "New engagement",
        "kind": "blended",
        "phase": "explore",
        "time_zone": "America/Chicago",
        "currency": "USD",
    }
    data.update(overrides)
    return data


def test_organization_form_validates_time_zone_and_size_unit(world):
    form = OrganizationForm(
        {"name": "Gamma", "kind": "hospital", "time_zone": "Europe/Atlantis", "size": "10"},
        user=world.admin,
    )
    assert not form.is_valid()
    assert set(form.errors) == {"time_zone", "size_unit"}
    form = OrganizationForm(
        {
            "name": "Gamma",
            "kind": "hospital",
            "time_zone": "Europe/Paris",
            "size": "10",
            "size_unit": "beds",
        },
        user=world.admin,
    )
    assert form.is_valid(), form.errors


def test_organization_form_rejects_a_duplicate_name_and_negative_size(world):
    form = OrganizationForm(
        {
            "name": "Alpha Health",
            "kind": "hospital",
            "time_zone": "UTC",
            "size": "-3",
            "size_unit": "beds",
        },
        user=world.admin,
    )
    assert not form.is_valid()
    assert set(form.errors) == {"name", "size"}


def test_engagement_form_offers_people_only_their_own_organization(world):
    form = EngagementForm(user=world.it_lead)
    assert list(form.fields["client"].queryset) == [world.alpha]
    assert form.fields["client"].initial == world.alpha


def test_engagement_form_offers_admins_every_client_but_no_vendor(world):
    clients = set(EngagementForm(user=world.admin).fields["client"].queryset)
    assert {world.alpha, world.beta} <= clients
    assert world.acme not in clients


def test_vendor_people_have_no_client_to_choose(world):
    assert not EngagementForm(user=world.vendor_lead).fields["client"].queryset.exists()


@pytest.mark.parametrize(
    ("currency", "valid"),
    [("usd", True), (" eur ", True), ("XYZ", False), ("US", False), ("USDX", False), ("", False)],
)
def test_engagement_currency(world, currency, valid):
    form = EngagementForm(
        engagement_data(client=world.alpha.pk, currency=currency), user=world.it_lead
    )
    assert form.is_valid() is valid, form.errors
    if valid:
        assert form.cleaned_data["currency"] == currency.strip().upper()


def test_engagement_form_checks_phase_against_kind(world):
    form = EngagementForm(
        engagement_data(client=world.alpha.pk, kind="affiliation", phase="operate"),
        user=world.it_lead,
    )
    assert not form.is_valid()
    assert "phase" in form.errors
    form = EngagementForm(
        engagement_data(client=world.alpha.pk, kind="affiliation", phase="day_one"),
        user=world.it_lead,
    )
    assert form.is_valid(), form.errors


def test_engagement_edit_form_has_no_client_and_checks_unique_names(world):
    other = Engagement.objects.create(
        name="Second", client=world.alpha, kind="blended", phase="explore"
    )
    form = EngagementForm(engagement_data(name=world.e1.name), instance=other, user=world.sponsor)
    assert "client" not in form.fields
    assert not form.is_valid()
    assert "already has an engagement" in form.errors["name"][0]


def test_party_form_excludes_existing_parties_and_invisible_organizations(world):
    directory_vendor = OrganizationFactory(name="Unrelated Vendor", kind="vendor")
    hidden = OrganizationFactory(name="Unrelated Hospital", kind="hospital")
    party = EngagementParty(engagement=world.e1)
    choices = set(
        EngagementPartyForm(instance=party, user=world.it_lead).fields["organization"].queryset
    )
    assert world.alpha not in choices and world.acme not in choices
    # Whoever may add parties sees the vendor directory, never other clients.
    assert directory_vendor in choices
    assert hidden not in choices and world.beta not in choices
    admin_choices = set(
        EngagementPartyForm(instance=party, user=world.admin).fields["organization"].queryset
    )
    assert hidden in admin_choices and world.bolt in admin_choices
    assert world.acme not in admin_choices


def test_party_form_keeps_its_own_organization_when_editing(world):
    party = EngagementParty.objects.get(engagement=world.e1, organization=world.acme)
    form = EngagementPartyForm(
        {"organization": world.acme.pk, "side": "vendor", "scope_summary": "Desk"},
        instance=party,
        user=world.it_lead,
    )
    assert form.is_valid(), form.errors


def test_party_form_enforces_side_rules(world):
    party = EngagementParty(engagement=world.e1)
    form = EngagementPartyForm(
        {"organization": world.bolt.pk, "side": "client"}, instance=party, user=world.admin
    )
    assert not form.is_valid()
    assert "side" in form.errors


def test_role_form_offers_people_of_parties_only(world):
    elsewhere = UserFactory(email="someone@bolt.test", organization=world.bolt)
    form = RoleAssignmentForm(instance=RoleAssignment(engagement=world.e1), user=world.admin)
    people = set(form.fields["user"].queryset)
    assert world.it_staff in people and world.vendor_staff in people and world.rival in people
    assert elsewhere not in people and world.outsider not in people


def test_role_form_hides_the_other_vendors_people_from_a_vendor(world):
    form = RoleAssignmentForm(instance=RoleAssignment(engagement=world.e1), user=world.vendor_lead)
    people = set(form.fields["user"].queryset)
    assert world.vendor_staff in people
    assert world.rival not in people


def test_role_form_rejects_duplicates_and_wrong_sides(world):
    instance = RoleAssignment(engagement=world.e1)
    form = RoleAssignmentForm(
        {"user": world.sponsor.pk, "role": Role.SPONSOR}, instance=instance, user=world.it_lead
    )
    assert not form.is_valid()
    assert "already holds" in form.errors["role"][0]
    form = RoleAssignmentForm(
        {"user": world.vendor_staff.pk, "role": Role.IT_LEAD},
        instance=RoleAssignment(engagement=world.e1),
        user=world.it_lead,
    )
    assert not form.is_valid()
    assert "role" in form.errors


def test_person_form_for_admins_sets_password_and_lowercases_email(world):
    form = PersonForm(
        {
            "email": "NEW@Alpha.Test",
            "full_name": "New",
            "organization": world.alpha.pk,
            "is_active": "on",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
        user=world.admin,
    )
    assert form.is_valid(), form.errors
    person = form.save()
    assert person.email == "new@alpha.test"
    assert person.check_password("a-long-enough-passphrase")


@pytest.mark.parametrize(
    ("password1", "password2", "field"),
    [("a-long-enough-passphrase", "other", "password2"), ("short", "short", "password1")],
)
def test_person_form_checks_passwords(world, password1, password2, field):
    form = PersonForm(
        {"email": "n@alpha.test", "full_name": "N", "password1": password1, "password2": password2},
        user=world.admin,
    )
    assert not form.is_valid()
    assert field in form.errors


def test_person_form_for_everyone_else_is_only_their_profile(world):
    form = PersonForm(instance=world.it_staff, user=world.it_staff)
    assert set(form.fields) == {"full_name", "job_title"}


def test_person_form_offers_admins_every_organization(world):
    form = PersonForm(user=world.admin)
    assert world.bolt in set(form.fields["organization"].queryset)
