"""API fuzzing: schemathesis generates requests from our OpenAPI schema; none may crash.

Every operation is called with generated payloads, ids and query strings by an IT lead
(who may write) and must answer something other than a server error, and every error
answer must be JSON.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tandem.core.tokens import issue_token
from tandem.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def token(world) -> str:
    return issue_token(world.it_lead, name="fuzzing")[1]


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Calling the WSGI app directly would close the test's database connection at the end
    of each request (PostgreSQL then loses the test transaction); Django's test client
    avoids this the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_generated_request_crashes_the_api(case, token) -> None:
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
    if response.status_code >= 400:
        headers = {key.lower(): value for key, value in response.headers.items()}
        content_type = headers.get("content-type", "")
        if isinstance(content_type, list):
            content_type = content_type[0]
        assert content_type.startswith("application/json"), (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
        )
