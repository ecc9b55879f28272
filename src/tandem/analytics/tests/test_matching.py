"""Holds matched to tickets: the sorted way and the hashed way give one answer."""

from __future__ import annotations

import bisect

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tandem.analytics import matching

IDS = st.text(alphabet="AB1é", min_size=0, max_size=3)


def pairs(ids: pl.Series, hold_ids: pl.Series) -> list[tuple[int, int]]:
    """Each matched hold with its ticket row, in the order given (grouping checked aside)."""
    hold, row = matching.match_holds(ids, hold_ids)
    holds = np.arange(len(hold_ids)) if hold is None else hold
    assert len(holds) == len(row)
    return list(zip(holds.tolist(), row.tolist(), strict=True))


def oracle(ids: list[str], hold_ids: list[str | None]) -> set[tuple[int, int]]:
    rows = {ticket: row for row, ticket in enumerate(ids)}
    return {(h, rows[t]) for h, t in enumerate(hold_ids) if t in rows}


def grouped(found: list[tuple[int, int]]) -> bool:
    """Each ticket's holds adjacent and in frame order."""
    seen: set[int] = set()
    previous: tuple[int, int] | None = None
    for hold, row in found:
        if previous is not None and previous[1] == row:
            if hold < previous[0]:
                return False
        elif row in seen:
            return False
        seen.add(row)
        previous = (hold, row)
    return True


@given(
    st.lists(IDS, unique=True, max_size=12),
    st.lists(st.one_of(IDS, st.none()), max_size=20),
    st.booleans(),
)
def test_both_ways_match_every_hold_to_its_ticket(
    ids: list[str], hold_ids: list[str | None], in_order: bool
) -> None:
    if in_order:
        ids = sorted(ids)
        hold_ids = sorted(hold_ids, key=lambda i: (i is not None, i or ""))
        hold_ids = [i for i in hold_ids if i is not None]
    tickets, holds = pl.Series(ids, dtype=pl.String), pl.Series(hold_ids, dtype=pl.String)
    found = pairs(tickets, holds)
    assert set(found) == oracle(ids, hold_ids)
    assert len(found) == len(set(found))
    assert grouped(found)
    hashed_hold, hashed_row = matching._hashed(tickets, holds)
    assert set(zip(hashed_hold.tolist(), hashed_row.tolist(), strict=True)) == set(found)


def test_sorted_ids_take_the_sorted_way_and_keep_the_holds_in_order() -> None:
    tickets = pl.Series(["A1", "A2", "B7"])
    holds = pl.Series(["A1", "A1", "A3", "B7"])
    assert matching._sorted(tickets, holds) is not None
    hold, row = matching.match_holds(tickets, holds)
    assert hold is not None and hold.tolist() == [0, 1, 3]
    assert row.tolist() == [0, 0, 2]
    hold, row = matching.match_holds(tickets, pl.Series(["A2", "B7", "B7"]))
    assert hold is None and row.tolist() == [1, 2, 2]


@pytest.mark.parametrize("ids", [["A", "B", "A"], ["B", "A", "B"], ["A", "A"]])
def test_duplicate_ticket_ids_are_refused_either_way(ids: list[str]) -> None:
    with pytest.raises(ValueError, match="duplicate ticket ids"):
        matching.match_holds(pl.Series(ids), pl.Series(["A"]))


@given(
    st.lists(IDS, unique=True, max_size=12),
    st.lists(IDS, max_size=20),
    st.booleans(),
)
def test_search_sorted_is_bisect_left(ids: list[str], keys: list[str], in_order: bool) -> None:
    """Keys in order take the as-of join, others the binary search: both are bisect_left
    on the ids' UTF-8 bytes (how Polars orders strings)."""
    ids = sorted(ids, key=str.encode)
    if in_order:
        keys = sorted(keys, key=str.encode)
    encoded = [i.encode() for i in ids]
    expected = [bisect.bisect_left(encoded, k.encode()) for k in keys]
    found = matching.search_sorted(
        pl.Series(ids, dtype=pl.String), pl.Series(keys, dtype=pl.String)
    )
    assert found.tolist() == expected
    assert found.dtype == np.int64
