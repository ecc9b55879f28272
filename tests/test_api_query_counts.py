"""Every API list costs the same number of queries whatever it holds, and bulk tables are
never counted.

For each list endpoint of every app's API router (a new one is covered by being routed), the
rows the IT lead of engagement e1 can see are grown from N to 3N and the list is read again:
the number of queries must not change (no query per row), and for the bulk tables
(``EngagementBulkModel``: tickets, holds, measurements, aggregates, credits) no query may
``COUNT`` them (their pages have no ``count``: ``BulkPagination``).
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tandem.core.api.viewsets import ScopedModelViewSet
from tandem.core.choices import Role
from tandem.core.models import (
    ChangeLog,
    Engagement,
    EngagementBulkModel,
    Organization,
    RoleAssignment,
    User,
)
from tandem.core.testing.factories import (
    EngagementFactory,
    EngagementPartyFactory,
    UserFactory,
    VendorFactory,
)
from tandem.core.testing.registry import load_all_makers
from tandem.core.testing.world import World
from tandem.service.models import Ticket

N = 2


def list_endpoints() -> list[tuple[str, type]]:
    """(URL name, model) of every scoped list in every Tandem app's API router."""
    found = []
    for config in apps.get_app_configs():
        module = f"{config.name}.api.urls"
        if not config.name.startswith("tandem.") or importlib.util.find_spec(module) is None:
            continue
        urls = importlib.import_module(module)
        for _, viewset, basename in urls.router.registry:
            if issubclass(viewset, ScopedModelViewSet):
                found.append((f"{urls.app_name}:{basename}-list", viewset.queryset.model))
    return found


def _engagement(world: World) -> Engagement:
    engagement = EngagementFactory(client=world.alpha)
    RoleAssignment.objects.create(engagement=engagement, user=world.it_lead, role=Role.IT_LEAD)
    return engagement


def _organization(world: World) -> Organization:
    vendor = VendorFactory()
    EngagementPartyFactory(engagement=world.e1, organization=vendor)
    return vendor


def _token(world: World) -> object:
    from tandem.core.tokens import issue_token

    return issue_token(world.it_lead, name="query counts")[0]


def grower(model: type, world: World) -> Callable[[], object]:
    """One more row of ``model`` that the IT lead of e1 can see."""
    special: dict[str, Callable[[], object]] = {
        "core.engagement": lambda: _engagement(world),
        "core.organization": lambda: _organization(world),
        "core.engagementparty": lambda: _organization(world),
        "core.user": lambda: UserFactory(organization=world.alpha),
        # Every write is audited: a new role in e1 adds to e1's trail.
        "core.changelog": lambda: load_all_makers()[RoleAssignment](world.e1, world.acme),
        "core.apitoken": lambda: _token(world),
    }
    label = model._meta.label_lower
    if label in special:
        return special[label]
    makers = load_all_makers()
    assert model in makers, f"{label}: no maker (tandem.<app>.testing.makers) to grow its list"
    return lambda: makers[model](world.e1, world.acme)


def _read(api, url: str) -> tuple[int, list[str], int]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"limit": 1000})
    assert response.status_code == 200, response.content[:500]
    return (
        len(queries),
        [q["sql"] for q in queries.captured_queries],
        len(response.json()["results"]),
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "model"), list_endpoints(), ids=lambda v: getattr(v, "__name__", v)
)
def test_a_list_costs_the_same_queries_for_n_and_3n_rows(name, model, world, api_for) -> None:
    api = api_for(world.it_lead)
    url = reverse(name)
    grow = grower(model, world)
    for _ in range(N):
        grow()
    small, _, rows_small = _read(api, url)
    for _ in range(2 * N):
        grow()
    large, statements, rows_large = _read(api, url)
    assert rows_large >= rows_small + 2 * N, f"{name}: the list did not grow ({rows_small})"
    assert large == small, (
        f"{name}: {small} queries for {rows_small} rows, {large} for {rows_large}"
    )
    if issubclass(model, EngagementBulkModel):
        table = model._meta.db_table
        counted = [sql for sql in statements if "COUNT(" in sql.upper() and table in sql]
        assert not counted, f"{name} counts its bulk table on every page: {counted}"


@pytest.mark.django_db
def test_every_bulk_table_with_a_list_is_covered() -> None:
    bulk = {
        m for m in apps.get_models() if issubclass(m, EngagementBulkModel) and not m._meta.abstract
    }
    listed = {model for _, model in list_endpoints()}
    assert bulk <= listed, f"bulk tables without an API list: {bulk - listed}"
    assert {ChangeLog, User} <= listed


@pytest.mark.django_db
def test_a_bulk_page_links_onwards_without_a_count(world, api_for) -> None:
    make = load_all_makers()[Ticket]
    for _ in range(5):
        make(world.e1, world.acme)
    api = api_for(world.it_lead)
    url = reverse("service-api:ticket-list")
    first = api.get(url, {"limit": 2}).json()
    assert set(first) == {"next", "previous", "results"}
    assert first["previous"] is None
    seen = [row["id"] for row in first["results"]]
    page = first
    while page["next"]:
        page = api.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert len(page["results"]) == 1 and "offset=2" in page["previous"]
    everything = [row["id"] for row in api.get(url, {"limit": 1000}).json()["results"]]
    assert seen == everything and len(everything) == 5
    # Exactly a page's worth left: no next page announced.
    assert api.get(url, {"limit": 5}).json()["next"] is None
