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
