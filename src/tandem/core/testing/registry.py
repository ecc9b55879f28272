"""Registration for the generic access tests.

Every engagement-scoped model registers a maker: ``maker(engagement, owner)`` returns a
saved instance in ``engagement``; when the model has an ``owner_lookup``, the instance
belongs to organization ``owner`` (a party to that engagement). The generic tests in
``tests/test_access_matrix.py`` walk every registered model and fail for any scoped model
that has not registered, so a new model is covered by registering it here or in its app's
``testing/makers.py`` (imported by the tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from tandem.core.models import Engagement, Organization

Maker = Callable[[Engagement, Organization], models.Model]

MAKERS: dict[type[models.Model], Maker] = {}

# Pages that add rows of a model when they are not its ``<app>:<model>_add`` form: read-only
# bulk rows are made by a wizard or an action (an import's upload, "Run now"), which the
# access matrix then holds to the table's "add" like any form.
ADD_PAGES: dict[type[models.Model], str] = {}


def register(model: type[models.Model], *, add_page: str | None = None) -> Callable[[Maker], Maker]:
    """Register ``model``'s maker; ``add_page`` names the URL (taking ``engagement_pk`` and
    answering a POST) that adds its rows when that is not ``<app>:<model>_add``."""

    def decorator(maker: Maker) -> Maker:
        MAKERS[model] = maker
        if add_page is not None:
            ADD_PAGES[model] = add_page
        return maker

    return decorator


def load_all_makers() -> dict[type[models.Model], Maker]:
    """Import every Tandem app's ``testing.makers`` module, then return the registry."""
    import importlib
    import importlib.util

    from django.apps import apps

    for config in apps.get_app_configs():
        if config.name.startswith("tandem."):
            module = f"{config.name}.testing.makers"
            if importlib.util.find_spec(module) is not None:
                importlib.import_module(module)
    return MAKERS


def scoped_models() -> list[type[models.Model]]:
    """The engagement itself and every concrete engagement-scoped model (records and bulk)."""
    from django.apps import apps

    from tandem.core.models import EngagementBulkModel, EngagementScopedModel

    found: list[type[Any]] = [Engagement]
    found += [
        m
        for m in apps.get_models()
        if issubclass(m, EngagementScopedModel | EngagementBulkModel) and not m._meta.abstract
    ]
    return found
