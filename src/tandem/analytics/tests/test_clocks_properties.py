"""Property tests: the vectorized clocks equal the oracle, and the invariants hold.

Run longer with ``HYPOTHESIS_PROFILE=thorough`` (2,000 examples per test).
"""

from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from tandem.analytics.calendar import BusinessCalendar
from tandem.analytics.tests import oracle
from tandem.analytics.tests.helpers import engine
from tandem.analytics.tests.strategies import Ticket, scenarios

settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@given(scenarios())
def test_the_engine_equals_the_oracle(scenario: tuple[BusinessCalendar, list[Ticket]]) -> None:
    calendar, batch = scenario
    spans = [(start, end) for start, end, _ in batch]
    holds = [(i, a, b) for i, (_, _, hs) in enumerate(batch) for a, b in hs]
    expected = [oracle.elapsed(calendar, start, end, hs) for start, end, hs in batch]
    assert engine(calendar, spans, holds) == expected


@given(scenarios(max_tickets=1), st.floats(0, 1))
def test_elapsed_is_between_zero_and_wall_clock_and_adds_up(
    scenario: tuple[BusinessCalendar, list[Ticket]], split: float
) -> None:
    calendar, [(start, end, holds)] = scenario
    middle = start + int((end - start) * split)
    whole, first, second = engine(calendar, [(start, end), (start, middle), (middle, end)])
    assert 0 <= whole <= end - start
    assert whole == first + second
    held = engine(calendar, [(start, end)], [(0, a, b) for a, b in holds])[0]
    assert 0 <= held <= whole
