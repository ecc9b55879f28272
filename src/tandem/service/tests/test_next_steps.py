"""The engagement home's "What comes next" suggests the first missing service-level step."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tandem.service.next_steps import engagement_next_steps
from tandem.service.tests.factories import ImportBatchFactory, SlaPolicyFactory, SlaRunFactory

pytestmark = pytest.mark.django_db


def texts(user, engagement) -> list[str]:
    return [step.text for step in engagement_next_steps(user, engagement)]


def test_the_first_missing_step_is_suggested_until_a_run_exists(world, client_for) -> None:
    e1 = world.e1
    page = client_for(world.it_lead).get(e1.get_absolute_url()).content.decode()
    assert reverse("service:import_upload", args=[e1.pk]) in page
    assert "Import the service desk&#x27;s tickets" in page
    ImportBatchFactory(engagement=e1)
    assert texts(world.it_lead, e1) == [
        "Write the SLA policy: calendars, targets and service credits"
    ]
    SlaPolicyFactory(engagement=e1)
    [step] = engagement_next_steps(world.it_lead, e1)
    assert step.url == reverse("service:slarun_list", args=[e1.pk])
    SlaRunFactory(engagement=e1)
    assert texts(world.it_lead, e1) == []
    assert world.e2.pk != e1.pk and texts(world.admin, world.e2)  # each engagement its own


def test_only_whoever_may_take_the_step_is_told_to(world) -> None:
    ImportBatchFactory(engagement=world.e1)
    # The policy is terms: the sponsor and the IT lead write it, not the vendor nor staff.
    assert texts(world.sponsor, world.e1)
    for person in (world.it_staff, world.vendor_lead, world.observer, world.outsider):
        assert texts(person, world.e1) == [], person


def test_the_engagement_home_stays_within_its_query_budget(
    world, client_for, django_assert_max_num_queries
) -> None:
    client = client_for(world.it_lead)
    client.get(world.e1.get_absolute_url())  # sessions, caches
    with django_assert_max_num_queries(40):
        assert client.get(world.e1.get_absolute_url()).status_code == 200
