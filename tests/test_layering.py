"""``core``, ``analytics`` and ``ingest`` import no app, present or future.

The import-linter contracts in pyproject.toml name today's apps; this test finds every app by
itself (a ``tandem.<x>`` package with an ``apps.py``), so an app added later is covered
without anyone remembering to list it. Apps plug into ``core`` through
``tandem.core.registry`` instead. Test modules (``tests`` packages) are exempt: ``core``'s
tests may check pages that apps fill in, with the apps' factories. Everything else - views,
commands, templates tags, the ``testing`` helpers other apps build on - may not import an
app, not even through another module.
"""

from __future__ import annotations

import copy
from pathlib import Path

import grimp
import pytest

import tandem

SOURCE = Path(tandem.__file__).resolve().parent
GUARDED = ("tandem.core", "tandem.analytics", "tandem.ingest")


def apps() -> list[str]:
    """Every Tandem app: a package of ``tandem`` with an ``apps.py``."""
    return sorted(
        f"tandem.{path.parent.name}"
        for path in SOURCE.glob("*/apps.py")
        if (path.parent / "__init__.py").exists()
    )


def is_test_module(module: str) -> bool:
    return ".tests." in f"{module}." or module.rsplit(".", 1)[-1].startswith("test_")


def app_imports(graph: grimp.ImportGraph, guarded: str, app: str) -> list[tuple[str, ...]]:
    """The import chains from non-test modules of ``guarded`` to ``app`` (empty: none)."""
    graph = copy.deepcopy(graph)
    for module in list(graph.modules):
        if module.startswith(f"{guarded}.") and is_test_module(module):
            graph.remove_module(module)
    chains = graph.find_shortest_chains(importer=guarded, imported=app, as_packages=True)
    return sorted(chains)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("tandem", cache_dir=None)


def test_every_app_is_found() -> None:
    found = apps()
    assert {"tandem.core", "tandem.service"} <= set(found)
    assert not {"tandem.analytics", "tandem.ingest"} & set(found)


@pytest.mark.parametrize("guarded", GUARDED)
def test_guarded_packages_import_no_app(graph: grimp.ImportGraph, guarded: str) -> None:
    broken = {app: app_imports(graph, guarded, app) for app in apps() if app != guarded}
    broken = {app: chains for app, chains in broken.items() if chains}
    assert not broken, "\n".join(
        f"{guarded} imports {app}: "
        + "; ".join(" -> ".join(chain) for chain in chains)
        + " (register it in tandem.core.registry from the app's AppConfig.ready() instead)"
        for app, chains in broken.items()
    )


def test_core_may_not_import_service_even_indirectly(graph: grimp.ImportGraph) -> None:
    """The check catches a direct import and one through a module outside any app."""
    direct = copy.deepcopy(graph)
    direct.add_import(importer="tandem.core.views.lifecycle", imported="tandem.service.models")
    assert app_imports(direct, "tandem.core", "tandem.service") == [
        ("tandem.core.views.lifecycle", "tandem.service.models")
    ]
    indirect = copy.deepcopy(graph)
    indirect.add_import(importer="tandem.core.registry", imported="tandem.allocator")
    indirect.add_import(importer="tandem.allocator", imported="tandem.service.models")
    assert app_imports(indirect, "tandem.core", "tandem.service") == [
        ("tandem.core.registry", "tandem.allocator", "tandem.service.models")
    ]


def test_core_tests_are_exempt_but_testing_helpers_are_not(graph: grimp.ImportGraph) -> None:
    exempt = copy.deepcopy(graph)
    exempt.add_import(importer="tandem.core.tests.test_views", imported="tandem.service.models")
    assert not app_imports(exempt, "tandem.core", "tandem.service")
    helpers = copy.deepcopy(graph)
    helpers.add_import(importer="tandem.core.testing.factories", imported="tandem.service.models")
    assert app_imports(helpers, "tandem.core", "tandem.service")
