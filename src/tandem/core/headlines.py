"""Headline cards: what the engagement home and the home page put first — current service
attainment, breaches, credits due, and whatever later capabilities have to headline.

``core`` imports no app. An app registers a provider from its ``AppConfig.ready()``
(``register_headlines``) with up to two functions:

- ``engagement(user, engagement)``: the card for one engagement's home, or ``None``;
- ``home(user, engagements)``: one card about all the engagements the home page lists (the
  user's, already through ``restrict()``), or ``None``. It must read them in a bounded number
  of queries — never one per engagement — since the home lists up to fifty.

A card is a template and its context (:class:`Headline`); pages render them in ``order``.
A provider that fails is logged and left out: a broken card never takes the page down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Headline:
    """One card: ``template`` rendered with ``context`` (plus the page's own context)."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


EngagementHeadline = Callable[[Any, Any], Headline | None]
HomeHeadline = Callable[[Any, Sequence[Any]], Headline | None]


@dataclass(frozen=True)
class Provider:
    key: str
    engagement: EngagementHeadline | None = None
    home: HomeHeadline | None = None


PROVIDERS: dict[str, Provider] = {}


def register_headlines(
    key: str,
    *,
    engagement: EngagementHeadline | None = None,
    home: HomeHeadline | None = None,
) -> None:
    """Register (or replace: ``ready()`` may run twice) the provider called ``key``."""
    PROVIDERS[key] = Provider(key, engagement, home)


def engagement_headlines(user: Any, engagement: Any) -> list[Headline]:
    """The cards of an engagement's home, in order."""
    cards = [
        _card(provider, provider.engagement, user, engagement)
        for provider in PROVIDERS.values()
        if provider.engagement is not None
    ]
    return _ordered(cards)


def home_headlines(user: Any, engagements: Sequence[Any]) -> list[Headline]:
    """The cards of the home page about ``engagements`` (the user's, restricted), in order."""
    if not engagements:
        return []
    cards = [
        _card(provider, provider.home, user, engagements)
        for provider in PROVIDERS.values()
        if provider.home is not None
    ]
    return _ordered(cards)


def _card(provider: Provider, make: Callable[[Any, Any], Headline | None], *args: Any) -> Any:
    try:
        return make(*args)
    except Exception:
        logger.exception("headline provider %r failed", provider.key)
        return None


def _ordered(cards: list[Headline | None]) -> list[Headline]:
    return sorted((card for card in cards if card is not None), key=lambda card: card.order)
