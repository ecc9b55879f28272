"""The OpenAPI schema: valid, warning-free, committed, and browsable offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

import tandem

OPENAPI_JSON = Path(tandem.__file__).resolve().parents[2] / "openapi.json"
REGENERATE = ".venv/bin/tandem spectacular --format openapi-json --file openapi.json"


def generate(tmp_path: Path, *options: str) -> dict:
    target = tmp_path / "openapi.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(target), *options)
    return json.loads(target.read_text())


def test_the_schema_is_valid_openapi_3_without_warnings(tmp_path) -> None:
    # --fail-on-warn turns any drf-spectacular warning (an untyped method field, an enum
    # name clash, a view it cannot introspect) into a CommandError: fix the code, not this.
    schema = generate(tmp_path, "--validate", "--fail-on-warn")
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for plural in ("organizations", "engagements", "engagement-parties", "role-assignments",
                   "users"):  # fmt: skip
        assert {"get", "post"} <= set(paths[f"/api/v1/core/{plural}/"]), plural
        assert {"get", "put", "patch", "delete"} <= set(paths[f"/api/v1/core/{plural}/{{id}}/"])
    assert set(paths["/api/v1/core/audit/"]) == {"get"}
    assert set(paths["/api/v1/core/audit/{id}/"]) == {"get"}
    assert set(paths["/api/v1/core/token/"]) == {"post"}
    user = schema["components"]["schemas"]["User"]["properties"]
    assert "password" not in user
    assert "password" in schema["components"]["schemas"]["UserRequest"]["properties"]


def test_the_committed_openapi_json_is_up_to_date(tmp_path) -> None:
    assert OPENAPI_JSON.exists(), f"openapi.json is missing: run `{REGENERATE}`"
    committed = json.loads(OPENAPI_JSON.read_text())
    assert committed == generate(tmp_path), (
        f"openapi.json differs from the API: regenerate it with `{REGENERATE}` and commit it"
    )


@pytest.mark.django_db
def test_the_schema_is_served(client) -> None:
    response = client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.django_db
def test_the_docs_render_from_local_static_files_only(client) -> None:
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assets = ASSET.findall(html)
    remote = [url for url in assets if re.match(r"(https?:)?//", url)]
    assert not remote, f"the API docs load from the network: {remote}"
    assert not re.search(r"https?://[^\s\"']*(cdn|unpkg|jsdelivr)", html)
    # The page's own script (no inline script under the CSP): no call to swagger.io's validator.
    own = [url for url in assets if url.startswith(reverse("api-docs"))]
    script = "".join(client.get(url).content.decode() for url in own)
    assert '"validatorUrl": null' in html + script
    local = [url for url in assets if url.startswith("/static/")]
    assert any(url.endswith(".js") for url in local), assets
    for url in local:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content if asset.streaming else [asset.content])
