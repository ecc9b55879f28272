"""Template filters of ``tandem_ui`` that format numbers people read aloud in meetings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tandem.core.templatetags.tandem_ui import money


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("4440"), "4,440.00"),
        (Decimal("1234567.895"), "1,234,567.90"),  # half-up, exactly
        (Decimal("0.005"), "0.01"),
        (Decimal("-12.5"), "-12.50"),
        ("185000.00", "185,000.00"),
        (None, "—"),
        ("n/a", "n/a"),
    ],
)
def test_money_prints_amounts_as_an_invoice_does(value, shown) -> None:
    assert money(value) == shown
