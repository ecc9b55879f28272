"""The headline registry (apps give the engagement home and the home page their cards
without core importing them) and the number filters every page uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tandem.core import headlines
from tandem.core.headlines import Headline, register_headlines
from tandem.core.templatetags.tandem_ui import money, num


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test (the apps' own providers put back afterwards)."""
    monkeypatch.setattr(headlines, "PROVIDERS", {})
    return headlines.PROVIDERS


def test_cards_come_in_order_and_none_is_no_card(registry) -> None:
    seen = []

    def late(user, engagement):
        seen.append(("late", user, engagement))
        return Headline("late.html", {"n": 2}, order=50)

    register_headlines("late", engagement=late)
    register_headlines("early", engagement=lambda u, e: Headline("early.html", order=5))
    register_headlines("nothing", engagement=lambda u, e: None)
    register_headlines("home only", home=lambda u, es: Headline("home.html"))
    cards = headlines.engagement_headlines("user", "engagement")
    assert [card.template for card in cards] == ["early.html", "late.html"]
    assert seen == [("late", "user", "engagement")]
    assert [c.template for c in headlines.home_headlines("user", ["e1"])] == ["home.html"]


def test_registering_again_replaces(registry) -> None:
    register_headlines("service", engagement=lambda u, e: Headline("one.html"))
    register_headlines("service", engagement=lambda u, e: Headline("two.html"))
    assert [c.template for c in headlines.engagement_headlines(None, None)] == ["two.html"]


def test_the_home_asks_nobody_without_engagements(registry) -> None:
    def boom(user, engagements):
        raise AssertionError("called")

    register_headlines("x", home=boom)
    assert headlines.home_headlines("user", []) == []


def test_a_failing_card_is_left_out_and_logged(registry, caplog) -> None:
    def broken(user, engagement):
        raise RuntimeError("no")

    register_headlines("broken", engagement=broken)
    register_headlines("fine", engagement=lambda u, e: Headline("fine.html"))
    assert [c.template for c in headlines.engagement_headlines(None, None)] == ["fine.html"]
    assert "headline provider 'broken' failed" in caplog.text


def test_service_registers_its_cards() -> None:
    provider = headlines.PROVIDERS["service"]
    assert provider.engagement is not None and provider.home is not None


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (0, 0, "0"),
        (1234567, 0, "1,234,567"),
        (-9876, 0, "-9,876"),
        (Decimal("1234.5"), 1, "1,234.5"),
        (Decimal("1234.5"), 0, "1,235"),
        (1234.56, 1, "1,234.6"),
        ("12345", 0, "12,345"),
        (5, 2, "5.00"),
        (None, 0, "—"),
        ("", 0, "—"),
        ("n/a", 0, "n/a"),
        (True, 0, "True"),
        (Decimal("NaN"), 0, "NaN"),
        (7, "x", "7"),
    ],
)
def test_num(value, places, shown) -> None:
    assert num(value, places) == shown


def test_money_with_and_without_its_currency() -> None:
    assert money(Decimal("1500")) == "1,500.00"
    assert money(Decimal("1234567.505"), "USD") == "1,234,567.51 USD"
    assert money("2.5", "EUR") == "2.50 EUR"
    assert money(None, "USD") == "—"
    assert money("abc") == "abc"
