"""Fixtures shared by every test: the access-test world and signed-in clients."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tandem.core.testing.world import World, build_world


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def client_for(db: None):
    """``client_for(user)``: a Django test client signed in as ``user``."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_for(db: None):
    """``api_for(user)``: a DRF API client authenticated as ``user``."""

    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """After every database test: each row of an audited model has its "create" record.

    This is how the suite proves that every write made in the tests reached the audit
    trail (a ``bulk_create`` or raw SQL insert that skipped it fails the test that made it).
    """
    result = yield
    uses_db = item.get_closest_marker("django_db") is not None or "_django_db_helper" in getattr(
        item, "fixturenames", ()
    )
    if uses_db:
        _assert_every_row_was_audited()
    return result


def _assert_every_row_was_audited() -> None:
    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    from tandem.core.audit import is_audited
    from tandem.core.models import ChangeLog

    missing: list[str] = []
    for model in apps.get_models():
        if not is_audited(model):
            continue
        ids = {str(pk) for pk in model._base_manager.values_list("pk", flat=True)}
        if not ids:
            continue
        logged = set(
            ChangeLog.objects.filter(
                content_type=ContentType.objects.get_for_model(model), action="create"
            ).values_list("object_id", flat=True)
        )
        if unlogged := ids - logged:
            missing.append(f"{model._meta.label} ids {sorted(unlogged)[:5]}")
    if missing:
        pytest.fail("rows written without an audit record: " + "; ".join(missing))
