"""The SLA monthly report (PDF): the latest run's number, as-of, attainment figures, breaches
and credits, as the dashboard shows them; every party may download it, outsiders get 404."""

from __future__ import annotations

import builtins
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from tandem.service.tests.results_data import build_sla

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


def test_the_report_shows_the_run_and_its_numbers(world, client_for) -> None:
    sla = build_sla(world.e1)
    world.e1.time_zone = "America/Chicago"
    world.e1.save()
    url = reverse("service:sla_report_pdf", args=[world.e1.pk])
    response = client_for(world.it_lead).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert f"run-{sla.run.number}.pdf" in response["Content-Disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    text = _text(pdf)
    label = f"Run #{sla.run.number}"
    # The title page: engagement, parties, run and as-of in the engagement's zone (12:00 UTC
    # on 10 April 2025 is 07:00 in Chicago, daylight time).
    assert "SLA monthly report" in text
    assert "Alpha managed services" in text
    assert "Acme IT" in text
    assert f"{label}, as of 2025-04-10 07:00 (America/Chicago)" in text
    # March P1: 4 of 8 met against 95 % (below goal); P3 4 of 4; February P1 2 of 2.
    assert "50.0 % (4/8)" in text
    assert "100.0 % (4/4)" in text
    assert "100.0 % (2/2)" in text
    assert "95.0 %" in text
    # Breaches: the stored breaches (met is false), as the dashboard counts them.
    assert "Breaches" in text
    # Credits due and the footer with page numbers and the run.
    assert "1,500.00 USD" in text
    assert f"by Tandem from SLA {label}" in text
    assert f"Page 2 of {len(reader.pages)}" in text


def test_every_party_may_download_and_outsiders_get_404(world, client_for) -> None:
    build_sla(world.e1)
    url = reverse("service:sla_report_pdf", args=[world.e1.pk])
    for user in (world.sponsor, world.vendor_lead, world.vendor_staff, world.observer):
        response = client_for(user).get(url)
        assert response.status_code == 200, user
        assert response.content.startswith(b"%PDF")
    assert client_for(world.outsider).get(url).status_code == 404
    other = reverse("service:sla_report_pdf", args=[world.e2.pk])
    assert client_for(world.it_lead).get(other).status_code == 404


def test_without_a_run_the_dashboard_explains(world, client_for) -> None:
    url = reverse("service:sla_report_pdf", args=[world.e1.pk])
    response = client_for(world.it_lead).get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("service:sla_dashboard", args=[world.e1.pk])


def test_the_dashboard_links_the_pdf(world, client_for) -> None:
    build_sla(world.e1)
    page = client_for(world.vendor_lead).get(reverse("service:sla_dashboard", args=[world.e1.pk]))
    assert reverse("service:sla_report_pdf", args=[world.e1.pk]) in page.content.decode()


def test_the_pdf_of_a_signed_out_visitor_asks_to_sign_in(world, client) -> None:
    build_sla(world.e1)
    response = client.get(reverse("service:sla_report_pdf", args=[world.e1.pk]))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_without_pango_the_button_explains_instead_of_a_500(world, client_for, monkeypatch) -> None:
    build_sla(world.e1)
    real_import = builtins.__import__

    def failing(name, *args, **kwargs):
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError("cannot load library 'libpango-1.0-0': no such file")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing)
    url = reverse("service:sla_report_pdf", args=[world.e1.pk])
    response = client_for(world.it_lead).get(url)
    assert response.status_code == 503
    assert "PDF reports need the Pango library: apt-get install libpango-1.0-0" in (
        response.content.decode()
    )
