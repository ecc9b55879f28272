"""Every contracts list page (and a contract's page) reads a fixed number of queries
whatever its row count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tandem.contracts.tests.factories import (
    ContractDocumentFactory,
    ContractFactory,
    ScopeItemFactory,
)

pytestmark = pytest.mark.django_db


def _grow(world, contract, n: int) -> None:
    for _ in range(n):
        ContractFactory(engagement=world.e1, vendor=world.acme)
        ScopeItemFactory(contract=contract)
        ContractDocumentFactory(contract=contract, uploaded_by=world.it_lead)


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(
    "name",
    ["contracts:contract_list", "contracts:scopeitem_list", "contracts:contractdocument_list"],
)
def test_list_pages_read_a_fixed_number_of_queries(world, client_for, name) -> None:
    contract = ContractFactory(engagement=world.e1, vendor=world.acme)
    client = client_for(world.it_lead)
    url = reverse(name, args=[world.e1.pk])
    _grow(world, contract, 2)
    few = _count(client, url)
    _grow(world, contract, 6)
    assert _count(client, url) == few


def test_the_contract_page_reads_a_fixed_number_of_queries(world, client_for) -> None:
    contract = ContractFactory(engagement=world.e1, vendor=world.acme)
    client = client_for(world.it_lead)
    _grow(world, contract, 2)
    few = _count(client, contract.get_absolute_url())
    _grow(world, contract, 6)
    assert _count(client, contract.get_absolute_url()) == few
