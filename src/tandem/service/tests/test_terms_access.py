"""The terms that decide how a party is measured (SLA policy versions, assignment-group sides)
are the client's to change: its sponsor and IT lead may; every vendor role, the client's IT
staff and the observer only read them - 403 through the API, 403 and no button in the UI -
and nothing changes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tandem.core.models import ChangeLog
from tandem.service.choices import GroupSide
from tandem.service.models import AssignmentGroupSide, SlaPolicy
from tandem.service.tests.factories import (
    POLICY_TOML,
    AssignmentGroupSideFactory,
    SlaPolicyFactory,
)

pytestmark = pytest.mark.django_db

READERS = ("vendor_lead", "vendor_staff", "it_staff", "observer")
CHANGERS = ("sponsor", "it_lead")


def _policy_payload(world) -> dict:
    return {
        "engagement": world.e1.pk,
        "name": "Schedule B, lowered",
        "effective_from": "2025-01-01",
        "source": POLICY_TOML,
    }


def _side_payload(world, group: str = "Service Desk L1") -> dict:
    return {"engagement": world.e1.pk, "assignment_group": group, "side": GroupSide.CLIENT}


@pytest.mark.parametrize("role", READERS)
def test_readers_get_403_writing_terms_through_the_api(role, world, api_for) -> None:
    policy = SlaPolicyFactory(engagement=world.e1, version=1)
    side = AssignmentGroupSideFactory(engagement=world.e1, side=GroupSide.CLIENT)
    api = api_for(getattr(world, role))
    records = ChangeLog.objects.count()

    assert api.get(reverse("service-api:slapolicy-detail", args=[policy.pk])).status_code == 200
    assert api.post(reverse("service-api:slapolicy-list"), _policy_payload(world)).status_code == (
        403
    )
    policy_url = reverse("service-api:slapolicy-detail", args=[policy.pk])
    assert api.patch(policy_url, {"name": "Ours now"}).status_code == 403
    assert api.delete(policy_url).status_code == 403

    sides = reverse("service-api:assignmentgroupside-list")
    assert api.post(sides, _side_payload(world)).status_code == 403
    side_url = reverse("service-api:assignmentgroupside-detail", args=[side.pk])
    assert api.patch(side_url, {"side": GroupSide.VENDOR}).status_code == 403
    assert api.delete(side_url).status_code == 403

    assert SlaPolicy.objects.get().name == policy.name
    assert AssignmentGroupSide.objects.get().side == GroupSide.CLIENT
    assert ChangeLog.objects.count() == records


@pytest.mark.parametrize("role", READERS)
def test_readers_get_403_and_no_button_in_the_ui(role, world, client_for) -> None:
    policy = SlaPolicyFactory(engagement=world.e1, version=1)
    side = AssignmentGroupSideFactory(engagement=world.e1, side=GroupSide.CLIENT)
    client = client_for(getattr(world, role))

    policies = client.get(reverse("service:slapolicy_list", args=[world.e1.pk]))
    assert policies.status_code == 200
    assert reverse("service:slapolicy_add", args=[world.e1.pk]) not in policies.text
    groups = client.get(reverse("service:assignmentgroupside_list", args=[world.e1.pk]))
    assert groups.status_code == 200
    assert reverse("service:assignmentgroupside_add", args=[world.e1.pk]) not in groups.text
    detail = client.get(side.get_absolute_url())
    assert reverse("service:assignmentgroupside_edit", args=[side.pk]) not in detail.text

    for url in (
        reverse("service:slapolicy_add", args=[world.e1.pk]),
        reverse("service:slapolicy_upload", args=[world.e1.pk]),
        reverse("service:slapolicy_edit", args=[policy.pk]),
        reverse("service:assignmentgroupside_add", args=[world.e1.pk]),
        reverse("service:assignmentgroupside_edit", args=[side.pk]),
    ):
        assert client.get(url).status_code == 403, url
    response = client.post(
        reverse("service:assignmentgroupside_edit", args=[side.pk]),
        {"assignment_group": side.assignment_group, "side": GroupSide.VENDOR},
    )
    assert response.status_code == 403
    assert AssignmentGroupSide.objects.get().side == GroupSide.CLIENT


@pytest.mark.parametrize("role", CHANGERS)
def test_the_client_sponsor_and_it_lead_change_terms(role, world, api_for) -> None:
    api = api_for(getattr(world, role))
    created = api.post(reverse("service-api:slapolicy-list"), _policy_payload(world))
    assert created.status_code == 201, created.json()
    side = api.post(reverse("service-api:assignmentgroupside-list"), _side_payload(world))
    assert side.status_code == 201, side.json()
    changed = api.patch(
        reverse("service-api:assignmentgroupside-detail", args=[side.json()["id"]]),
        {"side": GroupSide.VENDOR, "vendor": world.acme.pk},
    )
    assert changed.status_code == 200, changed.json()
