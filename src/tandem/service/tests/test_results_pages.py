"""The service-level pages: the numbers shown are the stored rows', drill-downs count what
the aggregate counts, below-goal cells are flagged, and an engagement without a run says how
to get one."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tandem.service import charts, results
from tandem.service.tests.results_data import build_sla

pytestmark = pytest.mark.django_db


@pytest.fixture
def sla(world):
    return build_sla(world.e1)


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_pages_render_for_members_and_404_for_outsiders(world, sla, client_for) -> None:
    e1 = world.e1.pk
    pages = [
        reverse(f"service:{name}", args=[e1])
        for name in (
            "sla_dashboard",
            "sla_parity",
            "sla_credits",
            "sla_breaches",
            "sla_at_risk",
            "slameasurement_list",
            "slaaggregate_list",
            "servicecredit_list",
        )
    ]
    pages += [sla.p1_march.get_absolute_url(), sla.credit.get_absolute_url()]
    pages += [sla.critical.get_absolute_url()]
    for url in pages:
        assert client_for(world.vendor_lead).get(url).status_code == 200, url
        assert client_for(world.outsider).get(url).status_code == 404, url


def test_dashboard_cells_match_the_aggregates_and_flag_below_goal(
    world, sla, client_for, monkeypatch
) -> None:
    # 12 clocks in March: headlined once the minimum volume is 10 (test_board_numbers
    # covers the minimum itself).
    monkeypatch.setattr(results, "HEADLINE_MIN_TICKETS", 10)
    page = _text(
        client_for(world.it_lead).get(reverse("service:sla_dashboard", args=[world.e1.pk]))
    )
    drill = (
        f"/engagements/{world.e1.pk}/sla-measurements/?run_id={sla.run.pk}"
        "&amp;month=2025-03&amp;metric=resolution&amp;priority=P1"
    )
    # P1 March: 4 of 8 against 95 %: red, and linked to its clocks.
    cell = re.search(r'<td class="below-goal"[^>]*> <a href="([^"]+)">4/8 <span', page)
    assert cell is not None
    assert drill in cell.group(1)
    # P3 March met its goal: not flagged.
    assert re.search(r'<td> <a href="[^"]+priority=P3">4/4 <span class="muted">\(100.0 %\)', page)
    assert "2/2" in page  # February P1
    # Tiles: March all priorities 8/12, breaches 5, at risk 2 (1 at 90 %), 1,500.00 USD due.
    assert "8/12 met · 1 of 2 priorities below goal" in page
    assert re.search(r"Breaches</div> <a [^>]+>5</a>", page)
    assert "open, ≥ 75 % used · 1 ≥ 90 %" in page
    assert "1,500.00 USD" in page
    # The chart's data, embedded for plotly.js (served from the package, no CDN).
    assert 'id="chart-resolution-data"' in page
    assert reverse("service:plotly_js") in page
    assert "cdn" not in page.lower()


def test_drill_down_count_equals_the_aggregate_count(world, sla, client_for) -> None:
    client = client_for(world.it_lead)
    base = reverse("service:slameasurement_list", args=[world.e1.pk])
    for aggregate in (sla.p1_march, sla.p3_march, sla.p1_february):
        query = (
            f"?run_id={sla.run.pk}&month={aggregate.month:%Y-%m}&metric=resolution"
            f"&priority={aggregate.priority}"
        )
        page = _text(client.get(base + query))
        assert f"These <strong>{aggregate.count}</strong> clock" in page
        assert f"{aggregate.count} result" in page
    # A side: the vendor's P1 clocks of March.
    page = _text(client.get(base + "?month=2025-03&metric=resolution&priority=P1&side=vendor"))
    assert "These <strong>4</strong> clocks are behind" in page
    assert "4 results" in page


def test_aggregate_detail_links_to_exactly_its_clocks(world, sla, client_for) -> None:
    client = client_for(world.it_lead)
    page = _text(client.get(sla.p1_march.get_absolute_url()))
    link = re.search(r'href="([^"]+sla-measurements/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "8 results" in _text(client.get(link))
    assert "below goal" in page


def test_breaches_and_at_risk(world, sla, client_for) -> None:
    client = client_for(world.it_lead)
    breaches = _text(client.get(reverse("service:sla_breaches", args=[world.e1.pk])))
    assert "5 results" in breaches  # 1 client + 3 vendor stopped late, 1 open and over
    assert "INC-OPEN-LATE" in breaches
    assert "1 h 33 min over" in breaches  # 20,000 s against 14,400 s
    assert reverse("service:ticket_detail", args=[sla.open_breach.ticket_id]) in breaches
    risky = _text(client.get(reverse("service:sla_at_risk", args=[world.e1.pk])))
    assert "2 results" in risky
    assert "INC-OPEN-FINE" not in risky
    assert risky.index("INC-OPEN-90") < risky.index("INC-OPEN-75")  # most used first
    assert "≥ 90 %" in risky and "≥ 75 %" in risky
    assert "3 h 36 min" in risky  # 13,000 s elapsed
    # Filters narrow the list (htmx answers with the table region only).
    vendor = client.get(
        reverse("service:sla_breaches", args=[world.e1.pk]) + "?side=vendor", HTTP_HX_REQUEST="true"
    )
    assert "3 results" in _text(vendor)
    assert "<html" not in vendor.content.decode()


def test_measurement_detail_explains_the_clock(world, sla, client_for) -> None:
    page = _text(client_for(world.it_lead).get(sla.open_breach.get_absolute_url()))
    assert "5 h 33 min" in page  # elapsed
    assert "20,000 business seconds" in page
    assert "breached by 1 h 33 min" in page
    assert "still running" in page


def test_parity_sides_gap_and_verdict(world, sla, client_for) -> None:
    page = _text(client_for(world.it_lead).get(reverse("service:sla_parity", args=[world.e1.pk])))
    # P1 March: client 3/4 (75.0 %), vendor 1/4 (25.0 %): -50 points, Fisher p = 0.486.
    assert "3/4" in page and "1/4" in page
    assert "75.0 %" in page and "25.0 %" in page
    assert "-50.0 pts" in page
    assert "no significant difference (p = 0.486)" in page
    assert "fisher" in page
    # P3: no vendor clock: no test.
    assert "not comparable: no vendor clocks" in page
    # The unmapped group's clock is named, with the way to fix it.
    assert "1 stopped clock, from 1 assignment group mapped to no side" in page
    assert reverse("service:assignmentgroupside_list", args=[world.e1.pk]) in page
    assert "Fisher's exact test" in page
    assert 'id="parity-resolution-data"' in page


def test_credits_by_month(world, sla, client_for) -> None:
    page = _text(client_for(world.it_lead).get(reverse("service:sla_credits", args=[world.e1.pk])))
    assert "March 2025" in page
    assert "<strong>1,500.00 USD</strong>" in page
    assert "Month total due</td> <td>1,500.00 USD" in page
    assert "1 target below goal" in page
    link = (
        f"?run_id={sla.run.pk}&amp;month=2025-03&amp;metric=resolution&amp;priority=P1"
        "&amp;open=false"
    )
    assert link in page


def test_empty_state_says_how_to_get_numbers(world, client_for) -> None:
    client = client_for(world.it_lead)
    for name in ("sla_dashboard", "sla_parity", "sla_credits", "sla_breaches"):
        page = _text(client.get(reverse(f"service:{name}", args=[world.e1.pk])))
        assert "No service-level numbers yet" in page, name
        assert reverse("service:import_upload", args=[world.e1.pk]) in page


def test_filters_narrow_the_dashboard(world, sla, client_for) -> None:
    client = client_for(world.it_lead)
    url = reverse("service:sla_dashboard", args=[world.e1.pk])
    page = _text(client.get(url + "?priority=P3"))
    assert "4/4" in page and "4/8" not in page
    vendor = _text(client.get(url + "?side=vendor"))
    assert "1/4" in vendor and "4/8" not in vendor
    assert "side=vendor" in vendor  # the cells drill down to the vendor's clocks


def test_plotly_js_comes_from_the_package(client) -> None:
    response = client.get(reverse("service:plotly_js"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert b"plotly" in b"".join(response.streaming_content)[:2000].lower()


def test_durations_and_figures() -> None:
    assert results.duration(15_120) == "4 h 12 min"
    assert results.duration(3_600) == "1 h"
    assert results.duration(45) == "45 s"
    assert results.duration(125) == "2 min 5 s"
    assert results.duration(-3_900) == "-1 h 5 min"
    assert results.p_text(0.0004) == "p < 0.001"
    assert (
        results.verdict({"p_value": 0.003, "significant": True, "gap": -0.2, "client_count": 9})
        == "vendor significantly worse (p = 0.003)"
    )


def test_attainment_figure_has_goal_lines(world, sla) -> None:
    (matrix,) = results.attainment_matrices(sla.run)
    figure = charts.attainment_figure(matrix)
    names = [trace["name"] for trace in figure["data"]]
    assert names == ["P1", "P1 goal", "P3", "P3 goal"]
    assert figure["data"][0]["y"] == [100.0, 50.0]
    assert figure["data"][1]["y"] == [95.0, 95.0]
