"""The API of SLA results: read-only lists with their filters, and parity."""

from __future__ import annotations

import pytest

from tandem.service.tests.results_data import build_sla

pytestmark = pytest.mark.django_db


@pytest.fixture
def sla(world):
    return build_sla(world.e1)


def _rows(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_measurements_filters(world, sla, api_for) -> None:
    api = api_for(world.vendor_lead)
    url = "/api/v1/service/sla-measurements/"
    assert len(_rows(api.get(url, {"engagement_id": world.e1.pk, "limit": 100}))) == 18
    rows = _rows(api.get(url, {"run_id": sla.run.pk, "month": "2025-03", "priority": "P1"}))
    assert len(rows) == sla.p1_march.count
    assert {r["side"] for r in rows} == {"client", "vendor"}
    assert len(_rows(api.get(url, {"met": "false"}))) == 5
    assert len(_rows(api.get(url, {"open": "true"}))) == 4
    assert api.get(url, {"month": "2025-13"}).status_code == 400
    assert api.post(url, {}).status_code == 405


def test_aggregates_and_credits(world, sla, api_for) -> None:
    api = api_for(world.it_lead)
    rows = _rows(
        api.get("/api/v1/service/sla-aggregates/", {"level": "priority", "month": "2025-03"})
    )
    p1 = next(r for r in rows if r["priority"] == "P1")
    assert (p1["count"], p1["met"], p1["goal"], p1["attainment"], p1["missed_goal"]) == (
        8,
        4,
        "0.950000",
        0.5,
        True,
    )
    credits = _rows(api.get("/api/v1/service/service-credits/", {"missed": "true"}))
    assert [(c["priority"], c["due"], c["currency"]) for c in credits] == [("P1", "1500.00", "USD")]
    assert len(_rows(api.get("/api/v1/service/sla-aggregates/", {"side": "vendor"}))) == 1


def test_parity(world, sla, api_for) -> None:
    response = api_for(world.it_lead).get(
        "/api/v1/service/sla-parity/", {"engagement_id": world.e1.pk}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["run"] == sla.run.pk
    assert body["unmapped_clocks"] == 1
    march = next(r for r in body["months"] if r["month"] == "2025-03-01" and r["priority"] == "P1")
    assert (march["client_met"], march["client_count"]) == (3, 4)
    assert (march["vendor_met"], march["vendor_count"]) == (1, 4)
    assert march["gap"] == pytest.approx(-0.5)
    assert march["test"] == "fisher"
    assert march["p_value"] == pytest.approx(0.4857, abs=1e-4)
    assert march["significant"] is False
    assert march["verdict"] == "no significant difference (p = 0.486)"
    period = next(r for r in body["period"] if r["priority"] == "P1")
    assert (period["client_met"], period["client_count"]) == (5, 6)  # with February
    assert "month" not in period


def test_parity_scope_and_bad_input(world, sla, api_for) -> None:
    url = "/api/v1/service/sla-parity/"
    assert api_for(world.outsider).get(url, {"engagement_id": world.e1.pk}).status_code == 404
    assert api_for(world.it_lead).get(url, {"engagement_id": world.e2.pk}).status_code == 404
    assert api_for(world.it_lead).get(url).status_code == 400
    assert api_for(world.it_lead).get(url, {"engagement_id": "x"}).status_code == 400
    bad_run = {"engagement_id": world.e1.pk, "run_id": sla.run.pk + 999}
    assert api_for(world.it_lead).get(url, bad_run).status_code == 404
    filtered = api_for(world.it_lead).get(
        url, {"engagement_id": world.e1.pk, "priority": "P3", "metric": "resolution"}
    )
    assert {r["priority"] for r in filtered.json()["months"]} == {"P3"}
