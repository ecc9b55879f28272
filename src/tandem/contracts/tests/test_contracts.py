"""Contracts: their rules (term, money, notice, currency, amendments, status moves) refused
with a field-named reason through the UI and the API, nothing changed, never a 500; and who
may write them."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tandem.contracts.choices import ContractKind, ContractStatus
from tandem.contracts.models import Contract
from tandem.contracts.tests.factories import ContractFactory, vendor_party
from tandem.core.models import ChangeLog

pytestmark = pytest.mark.django_db


def _payload(world, **changes):
    data = {
        "engagement": world.e1.pk,
        "kind": ContractKind.MASTER,
        "title": "Managed services agreement",
        "vendor": world.acme.pk,
        "status": ContractStatus.DRAFT,
        "term_start": "2025-01-01",
        "term_end": "2027-12-31",
        "renewal_type": "automatic",
        "notice_period_days": 90,
        "total_value": "1500000.00",
        "monthly_fee": "42000.00",
        "currency": "USD",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _form(world, **changes):
    data = _payload(world, **changes)
    data.pop("engagement")
    return data


def _state():
    return Contract.objects.count(), ChangeLog.objects.changes().count()


def test_a_good_contract_is_created_through_ui_and_api(world, client_for, api_for) -> None:
    add = reverse("contracts:contract_add", args=[world.e1.pk])
    response = client_for(world.it_lead).post(add, _form(world, currency=""))
    assert response.status_code == 302
    contract = Contract.objects.get()
    assert contract.currency == world.e1.currency  # the engagement's by default
    answer = api_for(world.sponsor).post(
        reverse("contracts-api:contract-list"), _payload(world, title="SOW"), format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["monthly_charge"] == "0"
    assert ChangeLog.objects.changes().filter(object_id=str(contract.pk)).exists()


BAD = [
    ("term_end", {"term_end": "2024-12-31"}),
    ("total_value", {"total_value": "-1.00"}),
    ("monthly_fee", {"monthly_fee": "-0.01"}),
    ("notice_period_days", {"notice_period_days": 2000}),
    ("currency", {"currency": "USS"}),
    ("currency", {"currency": "US"}),
    ("parent", {"kind": ContractKind.AMENDMENT}),
    ("status", {"status": ContractStatus.ACTIVE}),
    ("vendor", {"vendor": "world.alpha"}),
]


@pytest.mark.parametrize(
    ("field", "changes"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)]
)
def test_bad_input_is_refused_by_field(world, client_for, api_for, field, changes) -> None:
    changes = {k: (world.alpha.pk if v == "world.alpha" else v) for k, v in changes.items()}
    before = _state()
    page = client_for(world.it_lead).post(
        reverse("contracts:contract_add", args=[world.e1.pk]), _form(world, **changes)
    )
    assert page.status_code == 422
    assert field in page.context["form"].errors
    api = api_for(world.it_lead).post(
        reverse("contracts-api:contract-list"), _payload(world, **changes), format="json"
    )
    assert api.status_code == 400
    assert field in api.json(), api.json()
    assert _state() == before


def test_a_non_amendment_with_a_parent_is_refused(world, client_for, api_for) -> None:
    parent = ContractFactory(engagement=world.e1, vendor=world.acme)
    before = _state()
    page = client_for(world.it_lead).post(
        reverse("contracts:contract_add", args=[world.e1.pk]), _form(world, parent=parent.pk)
    )
    assert page.status_code == 422 and "parent" in page.context["form"].errors
    api = api_for(world.it_lead).post(
        reverse("contracts-api:contract-list"), _payload(world, parent=parent.pk), format="json"
    )
    assert api.status_code == 400 and "parent" in api.json()
    assert _state() == before


@pytest.mark.parametrize("ended", [ContractStatus.EXPIRED, ContractStatus.TERMINATED])
def test_an_ended_contract_cannot_be_amended(world, client_for, api_for, ended) -> None:
    parent = ContractFactory(engagement=world.e1, vendor=world.acme)
    Contract.objects.filter(pk=parent.pk).update(status=ended)
    before = _state()
    amendment = {"kind": ContractKind.AMENDMENT, "parent": parent.pk, "title": "Amendment 1"}
    page = client_for(world.it_lead).post(
        reverse("contracts:contract_add", args=[world.e1.pk]), _form(world, **amendment)
    )
    assert page.status_code == 422
    assert "cannot be amended" in str(page.context["form"].errors["parent"])
    api = api_for(world.it_lead).post(
        reverse("contracts-api:contract-list"), _payload(world, **amendment), format="json"
    )
    assert api.status_code == 400 and "cannot be amended" in str(api.json()["parent"])
    assert _state() == before


def test_an_amendment_to_a_live_contract_is_accepted(world, api_for) -> None:
    parent = ContractFactory(engagement=world.e1, vendor=world.acme)
    amendment = {"kind": ContractKind.AMENDMENT, "parent": parent.pk, "title": "Amendment 1"}
    api = api_for(world.it_lead).post(
        reverse("contracts-api:contract-list"), _payload(world, **amendment), format="json"
    )
    assert api.status_code == 201, api.json()
    assert parent.amendments.count() == 1


def test_status_moves_only_along_the_allowed_steps(world, api_for) -> None:
    contract = ContractFactory(engagement=world.e1, vendor=world.acme)
    contract.move_to(ContractStatus.NEGOTIATION)
    contract.move_to(ContractStatus.SIGNED)
    with pytest.raises(ValidationError) as refused:
        contract.move_to(ContractStatus.ACTIVE)
    assert "activation" in str(refused.value.message_dict["status"])
    with pytest.raises(ValidationError):
        contract.move_to(ContractStatus.DRAFT)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.SIGNED
    detail = reverse("contracts-api:contract-detail", args=[contract.pk])
    before = _state()
    for status in (ContractStatus.ACTIVE, ContractStatus.NEGOTIATION, ContractStatus.EXPIRED):
        answer = api_for(world.it_lead).patch(detail, {"status": status}, format="json")
        assert answer.status_code == 400 and "status" in answer.json()
    assert _state() == before
    ok = api_for(world.it_lead).patch(detail, {"status": "terminated"}, format="json")
    assert ok.status_code == 200
    with pytest.raises(ValidationError):
        Contract.objects.get(pk=contract.pk).move_to(ContractStatus.DRAFT)  # final


def test_a_new_contract_starts_draft_negotiation_or_signed(world, api_for) -> None:
    url = reverse("contracts-api:contract-list")
    for status in (ContractStatus.EXPIRING, ContractStatus.EXPIRED, ContractStatus.TERMINATED):
        answer = api_for(world.it_lead).post(url, _payload(world, status=status), format="json")
        assert answer.status_code == 400 and "status" in answer.json()
    signed = _payload(world, status=ContractStatus.SIGNED, signed_date="2024-12-15")
    assert api_for(world.it_lead).post(url, signed, format="json").status_code == 201


def test_the_edit_form_never_offers_active(world, client_for) -> None:
    contract = ContractFactory(engagement=world.e1, vendor=world.acme)
    Contract.objects.filter(pk=contract.pk).update(status=ContractStatus.SIGNED)
    page = client_for(world.it_lead).get(reverse("contracts:contract_edit", args=[contract.pk]))
    offered = [value for value, _ in page.context["form"].fields["status"].choices]
    assert offered == [ContractStatus.SIGNED, ContractStatus.TERMINATED]


def test_a_signed_date_on_a_draft_is_refused(world) -> None:
    contract = ContractFactory.build(
        engagement=world.e1, vendor=world.acme, signed_date=date(2025, 1, 2)
    )
    with pytest.raises(ValidationError) as refused:
        contract.full_clean()
    assert "signed_date" in refused.value.message_dict


@pytest.mark.parametrize("role", ["vendor_lead", "vendor_staff", "it_staff", "observer"])
def test_only_the_client_sponsor_and_it_lead_write_contracts(world, client_for, api_for, role):
    contract = ContractFactory(engagement=world.e1, vendor=world.acme)
    user = getattr(world, role)
    before = _state()
    assert client_for(user).get(contract.get_absolute_url()).status_code == 200
    edit = reverse("contracts:contract_edit", args=[contract.pk])
    assert client_for(user).post(edit, _form(world, title="Mine")).status_code == 403
    detail = reverse("contracts-api:contract-detail", args=[contract.pk])
    assert api_for(user).patch(detail, {"title": "Mine"}, format="json").status_code == 403
    assert api_for(user).delete(detail).status_code == 403
    listing = reverse("contracts-api:contract-list")
    assert api_for(user).post(listing, _payload(world), format="json").status_code == 403
    assert _state() == before


def test_another_vendor_gets_404(world, client_for, api_for) -> None:
    theirs = ContractFactory(engagement=world.e1, vendor=vendor_party(world.e1, world.crest))
    detail = reverse("contracts-api:contract-detail", args=[theirs.pk])
    assert client_for(world.vendor_lead).get(theirs.get_absolute_url()).status_code == 404
    assert api_for(world.vendor_lead).get(detail).status_code == 404
    assert api_for(world.vendor_lead).patch(detail, {}, format="json").status_code == 404
    export = reverse("contracts:contract_list", args=[world.e1.pk]) + "?export=csv"
    body = b"".join(client_for(world.vendor_lead).get(export).streaming_content)
    assert theirs.title.encode() not in body


def test_the_contract_page_shows_the_derived_monthly_charge(world, client_for) -> None:
    from tandem.contracts.tests.factories import ScopeItemFactory

    contract = ContractFactory(engagement=world.e1, vendor=world.acme)
    ScopeItemFactory(contract=contract)  # 18.50 x 1,200 tickets
    ScopeItemFactory(contract=contract, pricing_model="fixed_monthly", unit_price="1000.00")
    page = client_for(world.it_lead).get(contract.get_absolute_url())
    assert page.status_code == 200
    assert page.context["charge"].total == 23200
    assert "23,200.00 USD" in page.content.decode()
