"""Scope items (the service catalog): bad input refused by field through the UI and the API,
the coverage calendar checked against the SLA policy, and the contract's derived charge."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from tandem.contracts.models import ScopeItem
from tandem.contracts.tests.factories import ContractFactory, ScopeItemFactory
from tandem.core.models import ChangeLog
from tandem.service.tests.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(world):
    return ContractFactory(engagement=world.e1, vendor=world.acme)


def _form(contract, **changes):
    data = {
        "contract": contract.pk,
        "category": "desk_tier_1",
        "name": "Service desk",
        "pricing_model": "per_ticket",
        "unit_price": "18.50",
        "tickets_per_month": 1200,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _state():
    return ScopeItem.objects.count(), ChangeLog.objects.changes().count()


BAD = [
    ("unit_price", {"unit_price": "-1"}),
    ("quantity", {"pricing_model": "hourly", "quantity": "-5"}),
    ("tickets_per_month", {"tickets_per_month": None}),
    ("tickets_per_month", {"tickets_per_month": 0}),
    ("users", {"pricing_model": "per_user"}),
    ("devices", {"pricing_model": "per_device"}),
    ("quantity", {"pricing_model": "hourly"}),
    ("pricing_model", {"pricing_model": "per_bed"}),
    ("category", {"category": "magic"}),
    ("unit_price", {"unit_price": "NaN"}),
]


@pytest.mark.parametrize(
    ("field", "changes"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)]
)
def test_bad_input_is_refused_by_field(world, contract, client_for, api_for, field, changes):
    before = _state()
    page = client_for(world.it_lead).post(
        reverse("contracts:scopeitem_add", args=[world.e1.pk]), _form(contract, **changes)
    )
    assert page.status_code == 422
    assert field in page.context["form"].errors
    api = api_for(world.it_lead).post(
        reverse("contracts-api:scopeitem-list"),
        {"engagement": world.e1.pk, **_form(contract, **changes)},
        format="json",
    )
    assert api.status_code == 400
    assert field in api.json(), api.json()
    assert _state() == before


def test_the_coverage_calendar_is_one_of_the_latest_policys(world, contract, api_for) -> None:
    url = reverse("contracts-api:scopeitem-list")
    payload = {"engagement": world.e1.pk, **_form(contract, coverage_calendar="weekends")}
    # No SLA policy yet: nothing to check against.
    assert api_for(world.it_lead).post(url, payload, format="json").status_code == 201
    policy = SlaPolicyFactory(engagement=world.e1)
    calendars = sorted(policy.parsed().calendars)
    before = _state()
    answer = api_for(world.it_lead).post(url, payload, format="json")
    assert answer.status_code == 400
    assert calendars[0] in str(answer.json()["coverage_calendar"])
    assert _state() == before
    payload["coverage_calendar"] = calendars[0]
    assert api_for(world.it_lead).post(url, payload, format="json").status_code == 201


def test_a_scope_item_of_another_engagements_contract_is_refused(world, api_for) -> None:
    other = ContractFactory(engagement=world.e2)
    answer = api_for(world.it_lead).post(
        reverse("contracts-api:scopeitem-list"),
        {"engagement": world.e1.pk, **_form(other)},
        format="json",
    )
    assert answer.status_code == 400 and "contract" in answer.json()


def test_the_contract_api_derives_its_monthly_charge(world, contract, api_for) -> None:
    ScopeItemFactory(contract=contract)  # 18.50 x 1,200 = 22,200
    ScopeItemFactory(
        contract=contract, pricing_model="hourly", unit_price=Decimal("95"), quantity=Decimal("10")
    )
    ScopeItemFactory(contract=contract, pricing_model="milestone", unit_price=Decimal("60000"))
    body = (
        api_for(world.vendor_lead)
        .get(reverse("contracts-api:contract-detail", args=[contract.pk]))
        .json()
    )
    assert Decimal(body["monthly_charge"]) == Decimal("23150.00")
    assert Decimal(body["milestone_total"]) == Decimal("60000")
    # Read-only: writing it changes nothing.
    api_for(world.it_lead).patch(
        reverse("contracts-api:contract-detail", args=[contract.pk]),
        {"monthly_charge": "1"},
        format="json",
    )
    body = (
        api_for(world.it_lead)
        .get(reverse("contracts-api:contract-detail", args=[contract.pk]))
        .json()
    )
    assert Decimal(body["monthly_charge"]) == Decimal("23150.00")


def test_scope_items_carry_the_contract_currency_and_export_typed(world, contract, client_for):
    ScopeItemFactory(contract=contract)
    url = reverse("contracts:scopeitem_list", args=[world.e1.pk]) + "?export=csv"
    body = b"".join(client_for(world.it_lead).get(url).streaming_content).decode()
    header, row = body.splitlines()[:2]
    assert "Unit price" in header and "Currency" in header
    assert "18.50" in row and "USD" in row


@pytest.mark.parametrize("role", ["vendor_lead", "vendor_staff"])
def test_vendor_people_cannot_change_scope(world, contract, client_for, api_for, role) -> None:
    item = ScopeItemFactory(contract=contract)
    user = getattr(world, role)
    before = _state()
    edit = reverse("contracts:scopeitem_edit", args=[item.pk])
    assert client_for(user).post(edit, _form(contract, name="Cheaper")).status_code == 403
    detail = reverse("contracts-api:scopeitem-detail", args=[item.pk])
    assert api_for(user).patch(detail, {"unit_price": "1"}, format="json").status_code == 403
    assert _state() == before


def test_another_vendor_never_sees_the_scope(world, contract, client_for, api_for) -> None:
    item = ScopeItemFactory(contract=contract)
    assert client_for(world.rival).get(item.get_absolute_url()).status_code == 404
    listed = api_for(world.rival).get(reverse("contracts-api:scopeitem-list")).json()
    assert item.pk not in {row["id"] for row in listed["results"]}
