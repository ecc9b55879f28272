"""Which instant a run measures as of is a term: only the client's sponsor and IT lead choose it.

The as-of instant decides which open clocks count, and the dashboards headline the latest run;
a vendor choosing it would choose its own measurement. Anyone who may start a run may still
start one as of the default (now, or the last imported event of an historical export).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tandem.core.models import ChangeLog
from tandem.service.models import SlaRun
from tandem.service.tests.test_board_numbers import _historical

pytestmark = pytest.mark.django_db

CHOOSERS = ("sponsor", "it_lead")
STARTERS = ("it_staff", "vendor_lead", "vendor_staff")
AS_OF = "2019-03-20T12:00"


@pytest.mark.parametrize("role", STARTERS)
def test_a_starter_outside_the_terms_area_may_not_choose_as_of(role, world, client_for, api_for):
    _historical(world.e1)
    person = getattr(world, role)
    before = ChangeLog.objects.changes().count()
    ui = client_for(person).post(
        reverse("service:slarun_start", args=[world.e1.pk]), {"as_of": AS_OF}
    )
    api = api_for(person).post(
        reverse("service-api:slarun-list"),
        {"engagement": world.e1.pk, "as_of": "2019-03-20T12:00:00Z"},
        format="json",
    )
    assert (ui.status_code, api.status_code) == (403, 403)
    assert "sponsor and IT lead" in api.json()["detail"]
    assert not SlaRun.objects.filter(engagement=world.e1).exists()
    assert ChangeLog.objects.changes().count() == before


@pytest.mark.parametrize("role", STARTERS)
def test_a_starter_runs_as_of_the_default_and_sees_no_as_of_field(role, world, client_for):
    _historical(world.e1)
    client = client_for(getattr(world, role))
    page = client.get(reverse("service:slarun_list", args=[world.e1.pk])).content.decode()
    assert 'name="as_of"' not in page
    assert "Measures as of the last imported event" in page
    response = client.post(reverse("service:slarun_start", args=[world.e1.pk]), {"as_of": ""})
    assert response.status_code == 302
    assert SlaRun.objects.get(engagement=world.e1).as_of_basis == "last_event"


@pytest.mark.parametrize("role", CHOOSERS)
def test_the_clients_leads_choose_as_of(role, world, client_for):
    _historical(world.e1)
    client = client_for(getattr(world, role))
    page = client.get(reverse("service:slarun_list", args=[world.e1.pk])).content.decode()
    assert 'name="as_of"' in page
    response = client.post(reverse("service:slarun_start", args=[world.e1.pk]), {"as_of": AS_OF})
    assert response.status_code == 302
    assert SlaRun.objects.get(engagement=world.e1).as_of_basis == "given"
