"""Bad input to every endpoint: a 400 naming the field (or a 404), never a 500, no change.

Each case is sent by a person who may write to the endpoint (``ENDPOINTS`` in
``test_api.py``), so the refusal comes from the input, not from the permission table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import resolve, reverse

from tandem.core.models import ChangeLog
from tandem.core.testing.world import World
from tandem.core.tests.test_api import ENDPOINTS, Endpoint

Payload = Callable[[World], dict[str, Any]]
TOO_LONG = "x" * 400
NOBODY = 987654321


def _with(base: Payload, **changes: Any) -> Payload:
    """``base``'s valid payload with some values changed (callables get the world)."""

    def build(world: World) -> dict[str, Any]:
        payload = base(world)
        for name, value in changes.items():
            payload[name] = value(world) if callable(value) else value
        return payload

    return build


def _without(base: Payload, name: str) -> Payload:
    def build(world: World) -> dict[str, Any]:
        payload = base(world)
        del payload[name]
        return payload

    return build


ORG, ENG, PARTY, ROLE, USER = (e.create for e in ENDPOINTS)

# (endpoint, description, payload, the field the error must name)
CREATE_CASES: list[tuple[str, str, Payload, str]] = [
    ("organization", "missing name", _without(ORG, "name"), "name"),
    ("organization", "missing kind", _without(ORG, "kind"), "kind"),
    ("organization", "over-long name", _with(ORG, name=TOO_LONG), "name"),
    ("organization", "int for string", _with(ORG, name=12345), "name"),
    ("organization", "null name", _with(ORG, name=None), "name"),
    ("organization", "unknown kind", _with(ORG, kind="spaceship"), "kind"),
    ("organization", "int for choice", _with(ORG, kind=3), "kind"),
    ("organization", "string for int", _with(ORG, size="many"), "size"),
    ("organization", "negative size", _with(ORG, size=-1), "size"),
    ("organization", "huge size", _with(ORG, size=10**30), "size"),
    ("organization", "size without unit", _with(ORG, size_unit=""), "size_unit"),
    ("organization", "unknown time zone", _with(ORG, time_zone="Mars/Olympus"), "time_zone"),
    ("organization", "not a URL", _with(ORG, website="delta dot example"), "website"),
    ("organization", "over-long notes", _with(ORG, notes="n" * 5001), "notes"),
    ("organization", "duplicate name", _with(ORG, name="Alpha Health"), "name"),
    ("organization", "NUL character", _with(ORG, name="Delta\x00"), "name"),
    ("engagement", "missing client", _without(ENG, "client"), "client"),
    ("engagement", "missing kind", _without(ENG, "kind"), "kind"),
    ("engagement", "over-long name", _with(ENG, name=TOO_LONG), "name"),
    ("engagement", "list for string", _with(ENG, name=["Alpha"]), "name"),
    ("engagement", "unknown phase", _with(ENG, phase="party"), "phase"),
    ("engagement", "phase of another kind", _with(ENG, phase="day_one"), "phase"),
    ("engagement", "object for FK", _with(ENG, client={"id": 1}), "client"),
    ("engagement", "string for FK", _with(ENG, client="alpha"), "client"),
    ("engagement", "float for FK", _with(ENG, client=1.5), "client"),
    ("engagement", "true for FK", _with(ENG, client=True), "client"),
    ("engagement", "FK out of scope", _with(ENG, client=lambda w: w.beta.pk), "client"),
    ("engagement", "FK nonexistent", _with(ENG, client=NOBODY), "client"),
    ("engagement", "FK beyond 64 bits", _with(ENG, client=10**30), "client"),
    ("engagement", "not a date", _with(ENG, start_date="next spring"), "start_date"),
    ("engagement", "ends before start", _with(ENG, end_date="2025-12-31"), "end_date"),
    ("engagement", "lower-case currency", _with(ENG, currency="usd"), "currency"),
    ("engagement", "over-long currency", _with(ENG, currency="USDX"), "currency"),
    ("engagement", "duplicate name", _with(ENG, name="Alpha managed services"),
     "non_field_errors"),
    ("engagementparty", "missing engagement", _without(PARTY, "engagement"), "engagement"),
    ("engagementparty", "missing side", _without(PARTY, "side"), "side"),
    ("engagementparty", "unknown side", _with(PARTY, side="both"), "side"),
    ("engagementparty", "vendor as client", _with(PARTY, side="client"), "side"),
    ("engagementparty", "over-long summary", _with(PARTY, scope_summary=TOO_LONG), "scope_summary"),
    ("engagementparty", "engagement out of scope", _with(PARTY, engagement=lambda w: w.e2.pk),
     "engagement"),
    ("engagementparty", "organization out of scope",
     _with(PARTY, organization=lambda w: w.beta.pk), "organization"),
    ("engagementparty", "object for FK", _with(PARTY, organization={"pk": 3}), "organization"),
    ("engagementparty", "already a party", _with(PARTY, engagement=lambda w: w.e1.pk),
     "non_field_errors"),
    ("roleassignment", "missing user", _without(ROLE, "user"), "user"),
    ("roleassignment", "missing role", _without(ROLE, "role"), "role"),
    ("roleassignment", "unknown role", _with(ROLE, role="king"), "role"),
    ("roleassignment", "vendor in a client role", _with(ROLE, role="sponsor"), "role"),
    ("roleassignment", "over-long note", _with(ROLE, note=TOO_LONG), "note"),
    ("roleassignment", "string for FK", _with(ROLE, engagement="e1"), "engagement"),
    ("roleassignment", "engagement out of scope", _with(ROLE, engagement=lambda w: w.e2.pk),
     "engagement"),
    ("roleassignment", "user out of scope", _with(ROLE, user=lambda w: w.outsider.pk), "user"),
    ("roleassignment", "user nonexistent", _with(ROLE, user=NOBODY), "user"),
    ("roleassignment", "same role twice", _with(ROLE, role="vendor_staff"), "non_field_errors"),
    ("user", "missing email", _without(USER, "email"), "email"),
    ("user", "not an email", _with(USER, email="analyst at alpha"), "email"),
    ("user", "int for email", _with(USER, email=42), "email"),
    ("user", "email taken", _with(USER, email="ITLEAD@alpha.test"), "email"),
    ("user", "over-long name", _with(USER, full_name=TOO_LONG), "full_name"),
    ("user", "string for boolean", _with(USER, is_staff="perhaps"), "is_staff"),
    ("user", "organization nonexistent", _with(USER, organization=NOBODY), "organization"),
    ("user", "weak password", _with(USER, password="12345"), "password"),
    ("user", "int for password", _with(USER, password=12345678), "password"),
]  # fmt: skip

# Changes to an existing row: (endpoint, description, PATCH payload, field named).
CHANGE_CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("organization", "unknown kind", {"kind": "spaceship"}, "kind"),
    ("organization", "blank name", {"name": ""}, "name"),
    ("organization", "size without unit", {"size": 300}, "size_unit"),
    ("engagement", "phase of another kind", {"phase": "post_close"}, "phase"),
    ("engagement", "ends before start", {"start_date": "2027-01-01", "end_date": "2026-01-01"},
     "end_date"),
    ("engagement", "vendor as client", {"kind": "blended", "client": "__acme__"}, "client"),
    ("engagement", "wrong type", {"start_date": 20260101}, "start_date"),
    ("engagementparty", "unknown side", {"side": "neutral"}, "side"),
    ("engagementparty", "vendor as client", {"side": "client"}, "side"),
    ("roleassignment", "vendor in a client role", {"role": "it_lead"}, "role"),
    ("roleassignment", "over-long note", {"note": TOO_LONG}, "note"),
    ("user", "null name", {"full_name": None}, "full_name"),
    ("user", "password through the API", {"password": "seven-blue-herons"}, "password"),
]  # fmt: skip


def _endpoint(basename: str) -> Endpoint:
    return next(e for e in ENDPOINTS if e.basename == basename)


def _counts(endpoint: Endpoint) -> tuple[int, int]:
    return endpoint.model._default_manager.count(), ChangeLog.objects.changes().count()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("basename", "payload", "field"),
    [(b, p, f) for b, _, p, f in CREATE_CASES],
    ids=[f"{b}: {d}" for b, d, _, _ in CREATE_CASES],
)
def test_a_bad_create_is_a_400_naming_the_field(basename, payload, field, world, api_for):
    endpoint = _endpoint(basename)
    api = api_for(getattr(world, endpoint.writer))
    data = payload(world)
    before = _counts(endpoint)
    response = api.post(endpoint.list_url(), data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert _counts(endpoint) == before
    # The same payload made valid again is accepted: the case tests what it says.
    assert api.post(endpoint.list_url(), endpoint.create(world), format="json").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("basename", "payload", "field"),
    [(b, p, f) for b, _, p, f in CHANGE_CASES],
    ids=[f"{b}: {d}" for b, d, _, _ in CHANGE_CASES],
)
def test_a_bad_change_is_a_400_naming_the_field(basename, payload, field, world, api_for):
    endpoint = _endpoint(basename)
    obj = endpoint.existing(world)
    payload = {k: world.acme.pk if v == "__acme__" else v for k, v in payload.items()}
    api = api_for(world.admin if endpoint.writer == "admin" else world.it_lead)
    before = _counts(endpoint), endpoint.model._default_manager.filter(pk=obj.pk).values().get()
    response = api.patch(endpoint.detail_url(obj.pk), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    after = _counts(endpoint), endpoint.model._default_manager.filter(pk=obj.pk).values().get()
    assert after == before
    assert api.patch(endpoint.detail_url(obj.pk), endpoint.change).status_code == 200


MALFORMED_BODIES = [
    ("truncated JSON", '{"name": "Delta', "detail"),
    ("not JSON", "name=Delta", "detail"),
    ("a JSON array", '[{"name": "Delta"}]', "non_field_errors"),
    ("a JSON string", '"Delta"', "non_field_errors"),
    ("JSON null", "null", "non_field_errors"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize(("body", "key"), [(b, k) for _, b, k in MALFORMED_BODIES],
                         ids=[d for d, _, _ in MALFORMED_BODIES])  # fmt: skip
def test_a_malformed_body_is_a_400_with_a_message(endpoint, body, key, world, api_for):
    api = api_for(getattr(world, endpoint.writer))
    obj = endpoint.existing(world)
    before = _counts(endpoint)
    for method, url in [("post", endpoint.list_url()), ("patch", endpoint.detail_url(obj.pk))]:
        response = getattr(api, method)(url, body, content_type="application/json")
        assert response.status_code == 400, (method, response.content)
        assert response.json()[key], response.json()
    assert _counts(endpoint) == before


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
@pytest.mark.parametrize("pk", [NOBODY, "abc", 10**30, -1])
def test_unknown_ids_are_a_json_404(endpoint, pk, world, api_for):
    api = api_for(world.admin)
    url = f"{endpoint.list_url()}{pk}/"
    before = _counts(endpoint)
    for method in ("get", "put", "patch", "delete"):
        response = getattr(api, method)(url, endpoint.change, format="json")
        assert response.status_code == 404, (method, response.content)
        assert response.json()["detail"]
    assert _counts(endpoint) == before


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_bad_id_filters_are_a_400_naming_the_filter(endpoint, world, api_for):
    api = api_for(world.admin)
    filterset = resolve(endpoint.list_url()).func.cls.filterset_class
    names = [name for name in filterset.base_filters if name.endswith("_id")]
    assert names or endpoint.basename == "organization"
    for name in names:
        for value in ("abc", str(10**30), "1.5", "-3"):
            response = api.get(endpoint.list_url(), {name: value})
            assert response.status_code == 400, (name, value)
            assert name in response.json()
    response = api.get(endpoint.list_url(), {"ordering": "no_such_field"})
    assert response.status_code == 200


BAD_PAGES = [
    ("limit", "lots"),
    ("limit", "-1"),
    ("limit", "0"),
    ("limit", "1.5"),
    ("limit", "-8.4e-99"),
    ("limit", "null"),
    ("limit", ""),
    ("limit", "1001"),
    ("limit", str(10**30)),
    ("offset", "-1"),
    ("offset", "2.0"),
    ("offset", "null"),
    ("offset", " 3"),
    ("offset", str(2**63)),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["core-api:organization-list", "service-api:ticket-list", "core-api:changelog-list"]
)
@pytest.mark.parametrize(("name", "value"), BAD_PAGES, ids=[f"{n}={v}" for n, v in BAD_PAGES])
def test_limit_and_offset_are_whole_numbers_in_range(url, name, value, world, api_for):
    response = api_for(world.it_lead).get(reverse(url), {name: value})
    assert response.status_code == 400, response.content
    assert list(response.json()) == [name], response.json()


@pytest.mark.django_db
def test_limit_and_offset_page_through_a_list(world, api_for):
    api = api_for(world.it_lead)
    url = reverse("core-api:roleassignment-list")
    everything = api.get(url, {"limit": 1000}).json()
    pages = [api.get(url, {"limit": 2, "offset": offset}).json() for offset in (0, 2, 4, 6)]
    assert [row["id"] for page in pages for row in page["results"]] == [
        row["id"] for row in everything["results"]
    ]
    assert everything["count"] == len(everything["results"]) > 4
    assert pages[0]["previous"] is None and "offset=2" in pages[0]["next"]
    response = api.get(url, {"limit": "1000", "offset": str(2**53)})
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.django_db
def test_bad_filter_values_name_the_filter(world, api_for):
    api = api_for(world.admin)
    url = reverse("core-api:roleassignment-list")
    for value in ("abc", str(10**30), "1.5"):
        response = api.get(url, {"engagement_id": value})
        assert response.status_code == 400, value
        assert "engagement_id" in response.json()
    response = api.get(url, {"role": "king"})
    assert response.status_code == 400
    assert "role" in response.json()
    audit = reverse("core-api:changelog-list")
    assert "time_after" in api.get(audit, {"time_after": "yesterday"}).json()


@pytest.mark.django_db
def test_unknown_paths_and_methods_answer_json(world, api_for):
    api = api_for(world.admin)
    for url in ("/api/v1/core/nothing-here/", "/api/v1/core/engagements/1/extra/"):
        response = api.get(url)
        assert response.status_code == 404
        assert response.json()["detail"]
    response = api.post("/api/v1/core/organizations", {"name": "Delta"}, format="json")
    assert response.status_code == 404
    assert "/api/v1/core/organizations/" in response.json()["detail"]
    response = api.delete(reverse("core-api:organization-list"))
    assert response.status_code == 405
    assert response.json()["detail"]
    response = api.post(reverse("core-api:token") + "x/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_form_encoded_body_works_and_an_unknown_media_type_is_a_415(world, api_for):
    api = api_for(world.admin)
    url = reverse("core-api:organization-list")
    response = api.post(url, "<org/>", content_type="application/xml")
    assert response.status_code == 415
    assert response.json()["detail"]
    response = api.post(url, {"name": "Delta Hospital", "kind": "hospital"}, format="multipart")
    assert response.status_code == 201
