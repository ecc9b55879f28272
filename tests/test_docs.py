"""Every model has a page under docs/models/<app>/<model>.md that names each of its fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.apps import apps

DOCS = Path(__file__).resolve().parent.parent / "docs" / "models"
MODELS = [m for m in apps.get_models() if m.__module__.startswith("tandem.")]


@pytest.mark.parametrize("model", MODELS, ids=[m._meta.label for m in MODELS])
def test_model_page_names_every_field(model) -> None:
    page = DOCS / model._meta.app_label / f"{model._meta.model_name}.md"
    assert page.exists(), f"write {page.relative_to(DOCS.parent.parent)}"
    text = page.read_text()
    fields = [f.name for f in model._meta.get_fields() if f.concrete or f.many_to_many]
    missing = [name for name in fields if f"`{name}`" not in text]
    assert not missing, f"{page.name} does not name: {', '.join(missing)}"
