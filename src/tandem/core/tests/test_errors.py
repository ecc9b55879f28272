"""Error answers: JSON for the API, the product's own pages elsewhere."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_api_paths_answer_json(world, api_for) -> None:
    for path in ("/api/v2/anything/", "/api/nothing", "/api/v1/core/nothing/"):
        response = api_for(world.it_lead).get(path)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("application/json"), path
        assert response.json()["detail"].startswith("Not found")


def test_unknown_pages_answer_the_products_404(world, client_for) -> None:
    response = client_for(world.it_lead).get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content
    assert b"Back to your engagements" in response.content


def test_a_crash_is_a_plain_page_not_a_traceback(world, client_for, monkeypatch) -> None:
    from tandem.core.views import engagements

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(engagements.EngagementListView, "get", explode)
    client = client_for(world.it_lead)
    client.raise_request_exception = False
    response = client.get("/engagements/")
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"boom" not in response.content


def test_a_csrf_failure_answers_json_under_the_api(world) -> None:
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(world.it_lead)
    response = client.post("/api/v1/core/nothing/", {})
    assert response.status_code in {403, 404}
    assert response["Content-Type"].startswith("application/json")
    page = client.post(f"/engagements/{world.e1.pk}/edit/", {})
    assert page.status_code == 403
    assert b"security token" in page.content


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-05:00",
        "not a time",
        "2026-02-30T00:00:00Z",
    ],
)
def test_odd_instants_in_audit_filters_are_a_400(world, api_for, value) -> None:
    response = api_for(world.it_lead).get("/api/v1/core/audit/", {"time_after": value})
    assert response.status_code == 400
    assert "time_after" in response.json()


def test_an_instant_with_an_offset_filters_in_utc(world, api_for) -> None:
    api = api_for(world.it_lead)
    response = api.get("/api/v1/core/audit/", {"time_after": "2000-01-01T00:00:00-05:00"})
    assert response.status_code == 200
    assert response.json()["count"] > 0
    # An offset PostgreSQL itself would refuse is fine once in UTC (found by fuzzing).
    odd = api.get("/api/v1/core/audit/", {"time_before": "0639-11-19T00:01:06.269-16:13"})
    assert odd.status_code == 200
    assert odd.json()["count"] == 0


def test_list_pages_are_at_most_a_thousand_rows(world, api_for) -> None:
    # The schema says limit <= 1000: a larger one is refused, naming the parameter.
    api = api_for(world.it_lead)
    assert api.get("/api/v1/core/engagements/", {"limit": 1000}).status_code == 200
    response = api.get("/api/v1/core/engagements/", {"limit": 10**9})
    assert response.status_code == 400
    assert "limit" in response.json()
