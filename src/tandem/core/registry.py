"""What the apps plug into ``core``: ``core`` imports no app, each app registers its parts here.

An app calls these from its ``AppConfig.ready()`` (which may run more than once: every
registration replaces an earlier one with the same key):

- :func:`register_demo_loader`: its part of ``tandem demo``, called after ``core``'s
  organizations, engagements and people are in, in ``order``;
- :func:`register_menu_entry`: a page in an engagement's navigation (the side navigation on
  wide screens, the top bar's Menu on narrow ones), shown to whoever may perform ``action``
  in ``area`` of the permission table (:mod:`tandem.core.access`);
- :func:`add_phase_link`: a page that provides one of a life-cycle phase's capabilities; the
  phase stepper links it and the engagement home's "What comes next" stops saying
  "not yet available" for that capability (:mod:`tandem.core.views.lifecycle`);
- :func:`register_next_steps`: what the engagement home's "What comes next" suggests doing
  now in this engagement (import the tickets, write the policy...), beside the phases;
- :func:`register_headlines`: cards for the engagement home and the home page
  (:mod:`tandem.core.headlines`).

``tests/test_layering.py`` and the import-linter contracts in ``pyproject.toml`` keep ``core``
free of app imports.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse

from tandem.core.access import is_platform_admin, roles_allowed
from tandem.core.choices import Action, Role
from tandem.core.headlines import register_headlines

__all__ = [
    "DemoLoader",
    "MenuEntry",
    "NextStep",
    "add_phase_link",
    "demo_loaders",
    "engagement_menu",
    "load_app_demos",
    "menu_entries",
    "next_steps",
    "register_demo_loader",
    "register_headlines",
    "register_menu_entry",
    "register_next_steps",
]

logger = logging.getLogger(__name__)

Write = Callable[[str], None]


def add_phase_link(phase: str, label: str, url_name: str, *, capability: str = "") -> None:
    """Plug a page into a life-cycle phase, as providing one of its capabilities (a key of
    the phase's ``involves``): see :func:`tandem.core.views.lifecycle.add_phase_link`."""
    # Imported here: tandem.core.views imports every view, and the views use this module.
    from tandem.core.views.lifecycle import add_phase_link as add

    add(phase, label, url_name, capability=capability)


# --- Demo loaders ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLoader:
    """``load(tickets=..., write=...)`` adds whatever part of the app's demo is missing and
    returns how many records it created (0: all there). It receives only the keywords its
    signature accepts: ``tickets`` (the ``--tickets`` option, or ``None`` for the default)
    and ``write`` (a function taking one progress line)."""

    key: str
    load: Callable[..., int]
    order: int = 100


DEMO_LOADERS: dict[str, DemoLoader] = {}


def register_demo_loader(key: str, load: Callable[..., int], *, order: int = 100) -> None:
    """Register (or replace) the demo loader called ``key``; lower ``order`` loads first."""
    DEMO_LOADERS[key] = DemoLoader(key, load, order)


def demo_loaders() -> list[DemoLoader]:
    """The registered loaders in the order ``tandem demo`` calls them."""
    return sorted(DEMO_LOADERS.values(), key=lambda loader: (loader.order, loader.key))


def load_app_demos(*, tickets: int | None = None, write: Write | None = None) -> int:
    """Call every app's demo loader in order; return how many records they created."""
    options: dict[str, Any] = {"tickets": tickets, "write": write}
    return sum(loader.load(**_accepted(loader.load, options)) for loader in demo_loaders())


def _accepted(function: Callable[..., Any], options: dict[str, Any]) -> dict[str, Any]:
    parameters = inspect.signature(function).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return options
    return {name: value for name, value in options.items() if name in parameters}


# --- Engagement menu ------------------------------------------------------------------------


@dataclass(frozen=True)
class MenuEntry:
    """A page of an engagement: ``url_name`` is reversed with the engagement's pk as its one
    argument. It is marked as the current page when the page's view name (``app:name``)
    starts with one of ``current`` (by default ``url_name`` itself)."""

    label: str
    url_name: str
    area: str = "records"
    action: str = Action.VIEW
    order: int = 100
    current: tuple[str, ...] = ()

    def is_current(self, view_name: str) -> bool:
        return bool(view_name) and view_name.startswith(self.current or (self.url_name,))


MENU: dict[str, MenuEntry] = {}

_EVERY_ROLE = frozenset(str(role) for role in Role)


def register_menu_entry(
    label: str,
    url_name: str,
    *,
    area: str = "records",
    action: str = Action.VIEW,
    order: int = 100,
    current: tuple[str, ...] = (),
) -> None:
    """Register (or replace: the key is ``url_name``) a page of the engagement navigation.

    ``area`` and ``action`` name the permission needed (a row of the permission table and one
    of its actions); entries are listed by ``order``, then label."""
    if action not in {str(known) for known in Action}:
        raise ValueError(f"unknown action {action!r}")
    roles_allowed(area, action)  # raises ValueError for an unknown area
    MENU[url_name] = MenuEntry(label, url_name, area, str(action), order, tuple(current))


def menu_entries() -> list[MenuEntry]:
    """Every registered entry, in menu order (whoever may see it)."""
    return sorted(MENU.values(), key=lambda entry: (entry.order, entry.label))


def engagement_menu(user: Any, engagement: Any, view_name: str = "") -> list[dict[str, Any]]:
    """The engagement's navigation for ``user``: ``label``, ``url`` and ``current`` of each
    entry they may see, in order. An entry every role may see costs no query (the user
    already sees the engagement); otherwise one query reads the user's roles in it."""
    roles: frozenset[str] | None = None
    admin = is_platform_admin(user)
    shown = []
    for entry in menu_entries():
        allowed = frozenset(roles_allowed(entry.area, entry.action))
        if not admin and allowed != _EVERY_ROLE:
            if roles is None:
                roles = _roles(user, engagement)
            if not roles & allowed:
                continue
        try:
            url = reverse(entry.url_name, args=[engagement.pk])
        except NoReverseMatch:
            continue
        shown.append({"label": entry.label, "url": url, "current": entry.is_current(view_name)})
    return shown


def _roles(user: Any, engagement: Any) -> frozenset[str]:
    from tandem.core.models import RoleAssignment

    if not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(
        RoleAssignment.objects.filter(user_id=user.pk, engagement_id=engagement.pk).values_list(
            "role", flat=True
        )
    )


# --- What comes next ------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """A suggestion of the engagement home's "What comes next": ``text`` linking ``url``."""

    text: str
    url: str
    order: int = 100


NextSteps = Callable[[Any, Any], Sequence[NextStep]]

NEXT_STEPS: dict[str, NextSteps] = {}


def register_next_steps(key: str, steps: NextSteps) -> None:
    """Register (or replace) ``steps(user, engagement)``: the suggestions of the app for this
    person in this engagement (only what they may do; none when nothing is missing). It runs
    on every view of the engagement home: a few queries at most."""
    NEXT_STEPS[key] = steps


def next_steps(user: Any, engagement: Any) -> list[NextStep]:
    """Every app's suggestions, in order. One that fails is logged and left out."""
    found: list[NextStep] = []
    for key, steps in NEXT_STEPS.items():
        try:
            found.extend(steps(user, engagement))
        except Exception:
            logger.exception("Next steps %r failed for engagement %s", key, engagement.pk)
    return sorted(found, key=lambda step: step.order)
