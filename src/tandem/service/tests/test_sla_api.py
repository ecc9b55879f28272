"""API of SLA policy versions and runs: numbering, TOML errors, frozen versions (409),
engagements the caller may add to, starting runs (202), filters."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from tandem.service.choices import RunStatus
from tandem.service.models import SlaPolicy, SlaRun
from tandem.service.tests.factories import (
    POLICY_TOML,
    SlaPolicyFactory,
    SlaRunFactory,
    TicketFactory,
)

pytestmark = pytest.mark.django_db

POLICIES = reverse("service-api:slapolicy-list")
RUNS = reverse("service-api:slarun-list")


def payload(world, **changes):
    return {
        "engagement": world.e1.pk,
        "name": "Schedule B",
        "effective_from": "2025-01-01",
        "source": POLICY_TOML,
        **changes,
    }


def test_create_numbers_the_version_and_records_who(world, api_for) -> None:
    SlaPolicyFactory(engagement=world.e1, version=3, effective_from=date(2024, 1, 1))
    response = api_for(world.it_lead).post(POLICIES, payload(world, version=99))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["version"] == 4 and body["is_frozen"] is False
    assert body["created_by"] == world.it_lead.pk
    assert body["url"].endswith(reverse("service-api:slapolicy-detail", args=[body["id"]]))


def test_create_names_the_toml_key_and_the_first_of_month_rule(world, api_for) -> None:
    bad = POLICY_TOML.replace('within = "4h"', 'within = "4 days"')
    response = api_for(world.it_lead).post(
        POLICIES, payload(world, source=bad, effective_from="2025-01-15")
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors["source"][0].startswith("targets[1].within:")
    assert "first day of a month" in errors["effective_from"][0]
    assert not SlaPolicy.objects.exists()


def test_create_only_in_engagements_the_caller_may_add_to(world, api_for) -> None:
    outsider = api_for(world.it_lead).post(POLICIES, payload(world, engagement=world.e2.pk))
    assert outsider.status_code == 400 and "engagement" in outsider.json()
    observer = api_for(world.observer).post(POLICIES, payload(world))
    assert observer.status_code == 403
    assert not SlaPolicy.objects.exists()


def test_a_frozen_version_answers_409_to_changes_and_deletes(world, api_for) -> None:
    policy = SlaPolicyFactory(engagement=world.e1, name="Before")
    SlaRunFactory(engagement=world.e1).policies.add(policy)
    api = api_for(world.it_lead)
    url = reverse("service-api:slapolicy-detail", args=[policy.pk])
    assert api.get(url).json()["is_frozen"] is True
    changed = api.patch(url, {"name": "After"})
    assert changed.status_code == 409
    assert "is frozen" in changed.json()["detail"]
    assert api.delete(url).status_code == 409
    policy.refresh_from_db()
    assert policy.name == "Before"


def test_an_unused_version_can_change_but_not_move(world, api_for) -> None:
    policy = SlaPolicyFactory(engagement=world.e1)
    api = api_for(world.it_lead)
    url = reverse("service-api:slapolicy-detail", args=[policy.pk])
    assert api.patch(url, {"name": "Amended", "version": 7}).json()["name"] == "Amended"
    policy.refresh_from_db()
    assert policy.version != 7
    moved = api.patch(url, {"engagement": world.e2.pk})
    assert moved.status_code == 400
    assert api.delete(url).status_code == 204


def test_policy_filters(world, api_for) -> None:
    one = SlaPolicyFactory(engagement=world.e1, version=1)
    SlaPolicyFactory(engagement=world.e1, version=2)
    api = api_for(world.it_lead)
    ids = [r["id"] for r in api.get(f"{POLICIES}?version=1").json()["results"]]
    assert ids == [one.pk]
    listed = api.get(f"{POLICIES}?engagement_id={world.e1.pk}").json()["results"]
    assert len(listed) == 2


def test_post_to_runs_starts_one(world, api_for) -> None:
    policy = SlaPolicyFactory(engagement=world.e1, effective_from=date(2025, 1, 1))
    TicketFactory(engagement=world.e1, priority="P1")
    response = api_for(world.it_lead).post(
        RUNS, {"engagement": world.e1.pk, "as_of": "2025-04-01T00:00:00-05:00"}
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    run = SlaRun.objects.get(pk=body["id"])
    assert response["Location"] == body["url"]
    assert body["status"] == RunStatus.DONE  # the immediate task backend of the tests
    assert body["as_of"].startswith("2025-04-01T05:00:00")
    assert body["policies"] == [policy.pk]
    assert body["progress_url"].endswith(f"/{run.progress_id}.json")
    assert body["started_by"] == world.it_lead.pk


def test_starting_runs_is_refused_with_reasons(world, api_for) -> None:
    TicketFactory(engagement=world.e1)
    no_policy = api_for(world.it_lead).post(RUNS, {"engagement": world.e1.pk})
    assert no_policy.status_code == 400
    assert "no SLA policy version" in no_policy.json()["engagement"][0]
    SlaPolicyFactory(engagement=world.e1)
    assert api_for(world.observer).post(RUNS, {"engagement": world.e1.pk}).status_code == 403
    hidden = api_for(world.outsider).post(RUNS, {"engagement": world.e1.pk})
    assert hidden.status_code in {400, 403}
    assert not SlaRun.objects.exists()


def test_runs_are_read_only_records(world, api_for) -> None:
    run = SlaRunFactory(engagement=world.e1)
    api = api_for(world.it_lead)
    url = reverse("service-api:slarun-detail", args=[run.pk])
    assert api.get(url).status_code == 200
    assert api.patch(url, {"status": "failed"}).status_code == 405
    assert api.put(url, {}).status_code == 405
    assert api.delete(url).status_code == 405


def test_run_filters(world, api_for) -> None:
    policy = SlaPolicyFactory(engagement=world.e1, version=2)
    used = SlaRunFactory(engagement=world.e1)
    used.policies.add(policy)
    failed = SlaRunFactory(engagement=world.e1, status=RunStatus.FAILED, error="boom")
    api = api_for(world.it_lead)

    def ids(query: str) -> set[int]:
        return {r["id"] for r in api.get(f"{RUNS}?{query}").json()["results"]}

    assert ids("status=failed") == {failed.pk}
    assert ids("version=2") == {used.pk}
    assert ids(f"engagement_id={world.e1.pk}") == {used.pk, failed.pk}
    assert ids(f"engagement_id={world.e2.pk}") == set()
