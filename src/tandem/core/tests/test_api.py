"""The core REST API: CRUD per endpoint with its audit records, tokens, and scoping.

``ENDPOINTS`` is the table the bad-input tests (``test_api_bad_input.py``) use too: for each
endpoint, who may write, a valid create payload, a change, and an existing e1 object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from rest_framework.test import APIClient

from tandem.core.choices import AuditAction, AuditSource, Role, Side
from tandem.core.models import (
    ApiToken,
    ChangeLog,
    Engagement,
    EngagementParty,
    Organization,
    RoleAssignment,
    User,
)
from tandem.core.testing.factories import (
    EngagementFactory,
    EngagementPartyFactory,
    RoleAssignmentFactory,
)
from tandem.core.testing.world import World


def third_engagement(world: World) -> Engagement:
    """e3: Alpha's second engagement, led by ``it_lead``, with no vendor yet (made once)."""
    existing = Engagement.objects.filter(name="Alpha full outsourcing").first()
    if existing is not None:
        return existing
    e3 = EngagementFactory(name="Alpha full outsourcing", client=world.alpha)
    EngagementPartyFactory(engagement=e3, organization=world.alpha, side=Side.CLIENT)
    RoleAssignmentFactory(engagement=e3, user=world.it_lead, role=Role.IT_LEAD)
    return e3


@dataclass(frozen=True)
class Endpoint:
    basename: str
    model: type[models.Model]
    writer: str  # the world's person who may create and change these rows
    deleter: str
    create: Callable[[World], dict[str, Any]]
    change: dict[str, Any]
    existing: Callable[[World], models.Model]  # a row of e1 (or seen from it)

    def __str__(self) -> str:
        return self.basename

    def list_url(self) -> str:
        return reverse(f"core-api:{self.basename}-list")

    def detail_url(self, pk: Any) -> str:
        return reverse(f"core-api:{self.basename}-detail", args=[pk])


ENDPOINTS = [
    Endpoint(
        "organization",
        Organization,
        writer="admin",
        deleter="admin",
        create=lambda w: {"name": "Delta Hospital", "kind": "hospital", "size": 120,
                          "size_unit": "beds", "website": "https://delta.example"},
        change={"notes": "Level I trauma center"},
        existing=lambda w: w.alpha,
    ),
    Endpoint(
        "engagement",
        Engagement,
        writer="it_lead",
        deleter="admin",
        create=lambda w: {"name": "Alpha outsourcing", "client": w.alpha.pk,
                          "kind": "full_outsourcing", "phase": "select",
                          "start_date": "2026-01-01", "end_date": "2028-12-31"},
        change={"description": "Service desk first, then applications"},
        existing=lambda w: w.e1,
    ),
    Endpoint(
        "engagementparty",
        EngagementParty,
        writer="it_lead",
        deleter="it_lead",
        create=lambda w: {"engagement": third_engagement(w).pk, "organization": w.acme.pk,
                          "side": "vendor", "scope_summary": "Service desk"},
        change={"scope_summary": "Service desk and application management"},
        existing=lambda w: EngagementParty.objects.get(engagement=w.e1, organization=w.acme),
    ),
    Endpoint(
        "roleassignment",
        RoleAssignment,
        writer="it_lead",
        deleter="it_lead",
        create=lambda w: {"engagement": w.e1.pk, "user": w.vendor_staff.pk,
                          "role": "observer", "note": "Reads the service reports"},
        change={"note": "Reads everything"},
        existing=lambda w: RoleAssignment.objects.get(engagement=w.e1, user=w.vendor_staff),
    ),
    Endpoint(
        "user",
        User,
        writer="admin",
        deleter="admin",
        create=lambda w: {"email": "analyst@alpha.test", "full_name": "Ana Lyst",
                          "organization": w.alpha.pk, "job_title": "Analyst",
                          "password": "seven-blue-herons"},
        change={"job_title": "Senior analyst"},
        existing=lambda w: w.it_staff,
    ),
]  # fmt: skip
E1_SCOPED = [
    e for e in ENDPOINTS if e.basename in {"engagement", "engagementparty", "roleassignment"}
]


def records(obj: models.Model, action: str) -> Any:
    return ChangeLog.objects.filter(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        action=action,
    )


def rows(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_create_read_update_delete_with_audit(endpoint, world, api_for) -> None:
    writer = getattr(world, endpoint.writer)
    api = api_for(writer)
    payload = endpoint.create(world)

    created = api.post(endpoint.list_url(), payload, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    obj = endpoint.model._default_manager.get(pk=body["id"])
    assert body["url"].endswith(endpoint.detail_url(obj.pk))
    assert body["display"] == str(obj)
    assert "password" not in body
    (record,) = records(obj, "create")
    assert (record.source, record.user, record.prechange_data) == (AuditSource.API, writer, None)
    for name, value in payload.items():
        if name != "password":
            assert record.postchange_data[name] == value, name

    detail = api.get(endpoint.detail_url(obj.pk))
    assert detail.status_code == 200
    assert detail.json()["id"] == obj.pk
    assert obj.pk in [row["id"] for row in rows(api.get(endpoint.list_url() + "?limit=1000"))]

    (name, value), = endpoint.change.items()  # fmt: skip
    changed = api.patch(endpoint.detail_url(obj.pk), endpoint.change, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()[name] == value
    (update,) = records(obj, "update")
    assert update.source == AuditSource.API
    assert update.prechange_data[name] == record.postchange_data[name]
    assert update.postchange_data[name] == value
    assert (name, record.postchange_data[name], value) in update.diff

    deleter = api_for(getattr(world, endpoint.deleter))
    assert deleter.delete(endpoint.detail_url(obj.pk)).status_code == 204
    assert not endpoint.model._default_manager.filter(pk=obj.pk).exists()
    (deleted,) = records(obj, "delete")
    assert deleted.source == AuditSource.API
    assert deleted.prechange_data[name] == value
    assert deleted.postchange_data is None
    assert api.get(endpoint.detail_url(obj.pk)).status_code == 404


@pytest.mark.django_db
def test_put_replaces_the_writable_fields(world, api_for) -> None:
    api = api_for(world.admin)
    url = reverse("core-api:organization-detail", args=[world.crest.pk])
    response = api.put(url, {"name": "Crest IT Services", "kind": "vendor"}, format="json")
    assert response.status_code == 200, response.content
    world.crest.refresh_from_db()
    assert world.crest.name == "Crest IT Services"
    (update,) = records(world.crest, "update")
    assert ("name", "Crest IT", "Crest IT Services") in update.diff


@pytest.mark.django_db
def test_creating_an_engagement_adds_the_client_party_and_makes_the_creator_it_lead(
    world, api_for
) -> None:
    payload = ENDPOINTS[1].create(world)
    response = api_for(world.sponsor).post(reverse("core-api:engagement-list"), payload)
    assert response.status_code == 201, response.content
    engagement = Engagement.objects.get(pk=response.json()["id"])
    assert EngagementParty.objects.filter(
        engagement=engagement, organization=world.alpha, side=Side.CLIENT
    ).exists()
    assert RoleAssignment.objects.filter(
        engagement=engagement, user=world.sponsor, role=Role.IT_LEAD
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("person", ["vendor_lead", "outsider"])
def test_vendors_cannot_start_engagements(person, world, api_for) -> None:
    payload = {"name": "Their own", "client": world.alpha.pk, "kind": "blended"}
    before = Engagement.objects.count()
    response = api_for(getattr(world, person)).post(reverse("core-api:engagement-list"), payload)
    assert response.status_code == 403
    assert "detail" in response.json()
    assert Engagement.objects.count() == before


@pytest.mark.django_db
def test_only_platform_admins_delete_engagements(world, api_for) -> None:
    url = reverse("core-api:engagement-detail", args=[world.e1.pk])
    assert api_for(world.it_lead).delete(url).status_code == 403
    assert api_for(world.sponsor).delete(url).status_code == 403
    assert Engagement.objects.filter(pk=world.e1.pk).exists()
    assert api_for(world.admin).delete(url).status_code == 204
    assert not RoleAssignment.objects.filter(engagement_id=world.e1.pk).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("basename", ["organization", "user"])
def test_only_platform_admins_create_organizations_and_people(basename, world, api_for) -> None:
    endpoint = next(e for e in ENDPOINTS if e.basename == basename)
    before = endpoint.model._default_manager.count()
    response = api_for(world.sponsor).post(endpoint.list_url(), endpoint.create(world))
    assert response.status_code == 403
    assert endpoint.model._default_manager.count() == before


@pytest.mark.django_db
def test_a_role_that_cannot_add_people_gets_403(world, api_for) -> None:
    # Vendor leads see e1's people but may not add any (the "people" row of the table).
    before = RoleAssignment.objects.count()
    response = api_for(world.vendor_lead).post(
        reverse("core-api:roleassignment-list"), ENDPOINTS[3].create(world)
    )
    assert response.status_code == 403
    assert RoleAssignment.objects.count() == before


@pytest.mark.django_db
def test_a_new_persons_password_works_and_is_never_returned(world, api_for) -> None:
    payload = ENDPOINTS[4].create(world)
    response = api_for(world.admin).post(reverse("core-api:user-list"), payload)
    assert response.status_code == 201, response.content
    user = User.objects.get(email="analyst@alpha.test")
    assert user.check_password("seven-blue-herons")
    assert "password" not in response.json()
    assert "password" not in api_for(world.admin).get(response.json()["url"]).json()
    (record,) = records(user, "create")
    assert "password" not in record.postchange_data


@pytest.mark.django_db
def test_people_edit_their_own_name_but_not_their_privileges(world, api_for) -> None:
    api = api_for(world.it_staff)
    url = reverse("core-api:user-detail", args=[world.it_staff.pk])
    assert api.patch(url, {"job_title": "Integration analyst"}).status_code == 200
    for field, value in [("is_staff", True), ("organization", world.acme.pk)]:
        response = api.patch(url, {field: value})
        assert response.status_code == 400
        assert field in response.json()
    world.it_staff.refresh_from_db()
    assert not world.it_staff.is_staff
    assert world.it_staff.organization == world.alpha
    colleague = reverse("core-api:user-detail", args=[world.sponsor.pk])
    assert api.patch(colleague, {"job_title": "CIO"}).status_code == 403


@pytest.mark.django_db
def test_a_record_cannot_move_to_another_engagement(world, api_for) -> None:
    e3 = third_engagement(world)
    assignment = RoleAssignment.objects.get(engagement=world.e1, user=world.it_staff)
    url = reverse("core-api:roleassignment-detail", args=[assignment.pk])
    response = api_for(world.it_lead).patch(url, {"engagement": e3.pk})
    assert response.status_code == 400
    assert "engagement" in response.json()
    assignment.refresh_from_db()
    assert assignment.engagement == world.e1


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", E1_SCOPED, ids=str)
def test_observer_gets_403_on_every_write(endpoint, world, api_for) -> None:
    api = api_for(world.observer)
    obj = endpoint.existing(world)
    url = endpoint.detail_url(obj.pk)
    # Adding to e1 (a new engagement is not a write in e1: any client person may start one).
    payload = {**endpoint.create(world), "engagement": world.e1.pk}
    counts = endpoint.model._default_manager.count(), ChangeLog.objects.changes().count()
    if endpoint.model is not Engagement:
        assert api.post(endpoint.list_url(), payload).status_code == 403
    assert api.patch(url, endpoint.change).status_code == 403
    assert api.delete(url).status_code == 403
    assert (endpoint.model._default_manager.count(), ChangeLog.objects.changes().count()) == counts
    assert api.get(url).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_outsider_gets_404_and_never_lists_e1_objects(endpoint, world, api_for) -> None:
    api = api_for(world.outsider)
    obj = endpoint.existing(world)
    url = endpoint.detail_url(obj.pk)
    assert api_for(world.it_lead).get(url).status_code == 200
    assert api.get(url).status_code == 404
    assert api.patch(url, endpoint.change).status_code == 404
    assert api.delete(url).status_code == 404
    listed = {row["id"] for row in rows(api.get(endpoint.list_url() + "?limit=1000"))}
    assert obj.pk not in listed
    assert listed  # the outsider does see their own engagement's rows


@pytest.mark.django_db
def test_outsider_sees_no_e1_audit_records(world, api_for) -> None:
    api_for(world.it_lead).patch(
        reverse("core-api:engagement-detail", args=[world.e1.pk]), {"description": "Secret"}
    )
    url = reverse("core-api:changelog-list") + "?limit=1000"
    assert {row["engagement"] for row in rows(api_for(world.it_lead).get(url))} >= {world.e1.pk}
    assert world.e1.pk not in {row["engagement"] for row in rows(api_for(world.outsider).get(url))}
    record = ChangeLog.objects.filter(engagement_id=world.e1.pk).first()
    detail = reverse("core-api:changelog-detail", args=[record.pk])
    assert api_for(world.outsider).get(detail).status_code == 404


@pytest.mark.django_db
def test_the_audit_endpoint_is_read_only_and_shows_the_diff(world, api_for) -> None:
    api = api_for(world.sponsor)  # moving the phase is the sponsor's approval
    api.patch(reverse("core-api:engagement-detail", args=[world.e1.pk]), {"phase": "exit"})
    url = reverse("core-api:changelog-list") + "?action=update&object_type=engagement"
    (row,) = rows(api.get(url))
    assert row["diff"] == [{"field": "phase", "before": "operate", "after": "exit"}]
    assert (row["source"], row["user"], row["object_id"]) == (
        "api",
        world.sponsor.pk,
        str(world.e1.pk),
    )
    before = ChangeLog.objects.changes().count()
    assert api.post(reverse("core-api:changelog-list"), {}).status_code == 405
    detail = reverse("core-api:changelog-detail", args=[row["id"]])
    assert api.patch(detail, {"message": "x"}).status_code == 405
    assert api.delete(detail).status_code == 405
    assert ChangeLog.objects.changes().count() == before


@pytest.mark.django_db
def test_filters_apply_within_scope(world, api_for) -> None:
    api = api_for(world.it_lead)
    url = reverse("core-api:roleassignment-list")
    e1_roles = rows(api.get(url, {"engagement_id": world.e1.pk, "limit": 1000}))
    assert {row["engagement"] for row in e1_roles} == {world.e1.pk}
    assert rows(api.get(url, {"engagement_id": world.e2.pk})) == []
    observers = rows(api.get(url, {"role": "observer"}))
    assert [row["user"] for row in observers] == [world.observer.pk]


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_a_signed_in_person_gets_a_token_that_authenticates_scripts(world, client_for) -> None:
    session = client_for(world.it_lead)
    response = session.post(reverse("core-api:token"))
    assert response.status_code == 201
    key = response.json()["token"]
    token = ApiToken.objects.get(user=world.it_lead)
    assert token.name == "API token" and key.startswith(f"tdm_{token.prefix}_")
    assert key not in (token.digest, token.prefix)  # only a digest is stored
    again = session.post(reverse("core-api:token"), {"name": "CI"}).json()
    assert again["token"] != key and again["name"] == "CI"  # a new token: never the old key
    assert ApiToken.objects.filter(user=world.it_lead).count() == 2
    # Both issues are in the audit trail, against the token, without the key.
    issued = ChangeLog.objects.filter(
        action=AuditAction.CREATE, content_type=ContentType.objects.get_for_model(ApiToken)
    )
    assert [r.message for r in issued.order_by("pk")] == ["API token issued"] * 2
    assert all(r.user == world.it_lead and r.source == AuditSource.API for r in issued)
    assert not any(
        secret in str(r.postchange_data) + r.message
        for r in issued
        for secret in (key, again["token"], token.digest)
    )

    script = token_client(key)
    listed = rows(script.get(reverse("core-api:engagement-list")))
    assert [row["id"] for row in listed] == [world.e1.pk]
    patched = script.patch(
        reverse("core-api:engagement-detail", args=[world.e1.pk]),
        {"description": "Renewed for two years"},
        format="json",
    )
    assert patched.status_code == 200
    (record,) = records(world.e1, "update")
    assert (record.user, record.source) == (world.it_lead, AuditSource.API)


@pytest.mark.django_db
def test_no_token_without_signing_in_and_a_wrong_token_is_refused(world) -> None:
    anonymous = APIClient()
    assert anonymous.post(reverse("core-api:token")).status_code == 401
    assert not ApiToken.objects.exists()
    refused = anonymous.get(reverse("core-api:engagement-list"))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    for wrong in ["0" * 40, "tdm_0123456789ab_nope", "tdm__", "tdm_" + "a" * 40 + "_x"]:
        answer = token_client(wrong).get(reverse("core-api:engagement-list"))
        assert answer.status_code == 401, wrong
        assert answer["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_deleting_an_organization_still_in_use_is_a_409_and_changes_nothing(world, api_for):
    before = Organization.objects.count(), ChangeLog.objects.changes().count()
    response = api_for(world.admin).delete(
        reverse("core-api:organization-detail", args=[world.crest.pk])
    )
    assert response.status_code == 409
    assert "engagement parties" in response.json()["detail"]
    assert (Organization.objects.count(), ChangeLog.objects.changes().count()) == before


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_the_browsable_api_renders_with_scoped_choices(endpoint, world, client_for) -> None:
    browser = client_for(world.it_lead)
    obj = endpoint.existing(world)
    for url in (endpoint.list_url(), endpoint.detail_url(obj.pk)):
        response = browser.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert b"Beta Clinic" not in response.content  # e2's client: out of it_lead's scope
