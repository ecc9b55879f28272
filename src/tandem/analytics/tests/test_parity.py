"""Internal-vs-vendor parity: the two tests against slow obvious oracles and textbook values,
the frame by hand, and the invariants (p in [0, 1], swapping the sides flips the gap and keeps
the p-value, counts are those of the BY_SIDE aggregates)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from math import comb, erfc, sqrt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tandem.analytics.aggregate import BY_SIDE, stopped_clocks
from tandem.analytics.parity import (
    PARITY,
    PARITY_PERIOD,
    compare,
    compare_sides,
    fisher_exact,
    parity,
    parity_period,
    side_totals,
    z_test,
)
from tandem.analytics.tests.test_aggregate import MEASURED, SIDES, TICKETS, table

JUNE, JULY = date(2025, 6, 1), date(2025, 7, 1)


def oracle_fisher(x1: int, n1: int, x2: int, n2: int) -> Fraction:
    """Every table with the margins of the observed one, with its exact probability; the
    two-sided p-value sums those at most (1 + 1e-7) times as likely as the observed."""
    total, met = n1 + n2, x1 + x2
    tables = {
        k: Fraction(comb(met, k) * comb(total - met, n1 - k), comb(total, n1))
        for k in range(0, n1 + 1)
        if 0 <= met - k <= n2
    }
    assert sum(tables.values()) == 1
    bound = tables[x1] * Fraction(10**7 + 1, 10**7)
    return sum((p for p in tables.values() if p <= bound), Fraction(0))


def oracle_z(x1: int, n1: int, x2: int, n2: int) -> float:
    """The textbook formula, in floats."""
    p1, p2, pooled = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
    se = sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return erfc(abs((p2 - p1) / se) / sqrt(2))


def clocks(rows: list[tuple[date, str, str, str, int, bool]]) -> pl.DataFrame:
    """``(month, metric, priority, side, elapsed, met)`` rows with the stopped_clocks columns."""
    return pl.DataFrame(
        [
            (f"T{i}", month, metric, priority, None, side, elapsed, 3600, met)
            for i, (month, metric, priority, side, elapsed, met) in enumerate(rows)
        ],
        schema={
            "ticket_id": pl.String(),
            "month": pl.Date(),
            "metric": pl.String(),
            "priority": pl.String(),
            "assignment_group": pl.String(),
            "side": pl.String(),
            "elapsed_seconds": pl.Int64(),
            "target_seconds": pl.Int64(),
            "met": pl.Boolean(),
        },
        orient="row",
    )


# --- the tests, by hand and against the oracles --------------------------------------------


def test_fishers_tea_tasting() -> None:
    # 3 of 4 against 1 of 4: the splits k = 0..4 have weights 1, 16, 36, 16, 1 (of 70); those
    # no likelier than k = 3 add up to 34/70.
    assert fisher_exact(3, 4, 1, 4) == pytest.approx(34 / 70, rel=1e-15)
    assert round(fisher_exact(3, 4, 1, 4), 4) == 0.4857


def test_fisher_by_hand() -> None:
    # 0 of 5 against 5 of 5: only this split and its mirror image, 1/252 each.
    assert fisher_exact(0, 5, 5, 5) == pytest.approx(2 / 252, rel=1e-15)
    # 2 of 2 against 0 of 2: weights 1, 4, 1: the two extreme splits, 2/6.
    assert fisher_exact(2, 2, 0, 2) == pytest.approx(1 / 3, rel=1e-15)
    # One clock each, one met: both splits equally likely.
    assert fisher_exact(1, 1, 0, 1) == 1.0


def test_z_test_by_hand() -> None:
    # 380 of 800 against 420 of 800: pooled 1/2, z = 40/800 / sqrt(1/4 × 2/800) = 2 exactly,
    # and two-sided P(|Z| >= 2) = 0.0455 (the "two sigma" of every statistics table).
    assert z_test(380, 800, 420, 800) == pytest.approx(0.04550026389635842, rel=1e-12)
    # R: prop.test(c(50, 60), c(100, 100), correct = FALSE) gives X-squared = 2.0202,
    # p-value = 0.1552.
    assert round(z_test(50, 100, 60, 100), 4) == 0.1552


@given(
    st.integers(1, 25).flatmap(
        lambda n1: st.integers(1, 25).flatmap(
            lambda n2: st.tuples(st.integers(0, n1), st.just(n1), st.integers(0, n2), st.just(n2))
        )
    )
)
def test_fisher_equals_the_enumeration(counts: tuple[int, int, int, int]) -> None:
    assert fisher_exact(*counts) == pytest.approx(float(oracle_fisher(*counts)), rel=1e-12)


@given(
    st.integers(1, 5000).flatmap(
        lambda n1: st.integers(1, 5000).flatmap(
            lambda n2: st.tuples(st.integers(0, n1), st.just(n1), st.integers(0, n2), st.just(n2))
        )
    )
)
def test_z_test_equals_the_formula_and_p_is_a_probability(
    counts: tuple[int, int, int, int],
) -> None:
    x1, n1, x2, n2 = counts
    test, p = compare(*counts)
    assert 0 <= p <= 1
    assert compare(x2, n2, x1, n1) == (test, p)  # the same test and exactly the same p
    if 0 < x1 + x2 < n1 + n2:
        assert z_test(*counts) == pytest.approx(oracle_z(*counts), rel=1e-9, abs=1e-300)


def test_the_choice_of_test() -> None:
    assert compare(900, 1000, 950, 1000)[0] == "z"  # 2,000 clocks, 150 expected misses
    assert compare(450, 500, 475, 500)[0] == "fisher"  # 1,000 clocks: small enough
    # 10,001 clocks but one miss in all: an expected cell count far below 5.
    assert compare(9_999, 10_000, 1, 1)[0] == "fisher"
    assert compare(5_000, 10_000, 0, 1)[0] == "fisher"  # a side with one clock
    # The exact test stays cheap on big tables: the walk is as long as the smallest margin.
    test, p = compare(2_990, 3_000, 999_999, 1_000_000)
    assert test == "fisher"
    assert 0 < p < 1e-12


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 50_000])
def test_no_difference_means_p_is_one(n: int) -> None:
    for met in {0, n // 3, n}:
        assert compare(met, n, met, n)[1] == pytest.approx(1.0, rel=1e-12)
    assert fisher_exact(0, n, 0, 2 * n) == 1.0
    assert fisher_exact(n, n, 2 * n, 2 * n) == 1.0
    assert z_test(0, n, 0, n) == 1.0


def test_impossible_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="client: 0 met of 0 clocks"):
        compare(0, 0, 1, 1)
    with pytest.raises(ValueError, match="vendor: 3 met of 2 clocks"):
        fisher_exact(0, 1, 3, 2)
    with pytest.raises(ValueError, match="alpha"):
        parity(clocks([]), alpha=1.5)
    with pytest.raises(ValueError, match="no 'side' column"):
        parity(clocks([]).drop("side"))


# --- the frame ----------------------------------------------------------------------------

R, S = "resolution", "response"
CLOCKS = clocks(
    [
        # June P1 resolution: client 3 of 4, vendor 1 of 4; an unmapped miss that counts nowhere.
        *((JUNE, R, "P1", "client", e, e != 40) for e in (10, 20, 30, 40)),
        *((JUNE, R, "P1", "vendor", e, e == 100) for e in (400, 300, 200, 100)),
        (JUNE, R, "P1", "unmapped", 99_999, False),
        # June P1 response: the client team only.
        (JUNE, S, "P1", "client", 60, True),
        (JUNE, S, "P1", "client", 70, True),
        # July P1 resolution: client 0 of 5, vendor 5 of 5.
        *((JULY, R, "P1", "client", 5000 + e, False) for e in range(5)),
        *((JULY, R, "P1", "vendor", 50 + e, True) for e in range(5)),
        # July P2 resolution: unmapped only, so no row.
        (JULY, R, "P2", "unmapped", 10, True),
    ]
)


def test_the_monthly_frame_by_hand() -> None:
    result = parity(CLOCKS)
    assert result.schema == pl.Schema(PARITY)
    assert result.rows() == [
        # Medians: nearest rank ceil(4/2) = 2 of 10, 20, 30, 40 and of 100 .. 400.
        (JUNE, R, "P1", 4, 3, 0.75, 20, 4, 1, 0.25, 200, -0.5, "fisher", pytest.approx(34 / 70))
        + (False,),
        (JUNE, S, "P1", 2, 2, 1.0, 60, 0, 0, None, None, None, None, None, None),
        (JULY, R, "P1", 5, 0, 0.0, 5002, 5, 5, 1.0, 52, 1.0, "fisher", pytest.approx(2 / 252))
        + (True,),
    ]
    assert parity(CLOCKS, alpha=0.001)["significant"].to_list() == [False, None, False]


def test_the_period_frame_sums_the_months() -> None:
    result = parity_period(CLOCKS)
    assert result.schema == pl.Schema(PARITY_PERIOD)
    row = result.row(0, named=True)
    assert (row["metric"], row["priority"]) == (R, "P1")
    assert (row["client_count"], row["client_met"], row["vendor_count"], row["vendor_met"]) == (
        9,
        3,
        9,
        6,
    )
    # Rank ceil(9/2) = 5 of 10, 20, 30, 40, 5000 .. 5004 and of 50 .. 54, 100 .. 400.
    assert (row["client_median_seconds"], row["vendor_median_seconds"]) == (5000, 54)
    assert row["gap"] == pytest.approx(1 / 3)
    assert row["test"] == "fisher"
    assert row["p_value"] == pytest.approx(float(oracle_fisher(3, 9, 6, 9)), rel=1e-12)
    assert result.row(1, named=True)["vendor_count"] == 0  # response: the client alone
    assert len(result) == 2


def test_the_counts_are_those_of_the_by_side_aggregates() -> None:
    rows = stopped_clocks(MEASURED, TICKETS, timezone="America/Chicago", sides=SIDES)
    expected = {
        (r["month"], r["metric"], r["priority"], r["side"]): (r["count"], r["met"])
        for r in table(BY_SIDE).iter_rows(named=True)
        if r["side"] != "unmapped"
    }
    found = {}
    for r in parity(rows).iter_rows(named=True):
        for side in ("client", "vendor"):
            if r[f"{side}_count"]:
                key = (r["month"], r["metric"], r["priority"], side)
                found[key] = (r[f"{side}_count"], r[f"{side}_met"])
    assert found == expected
    assert expected  # the fixture has both sides


def test_no_clocks_no_rows() -> None:
    assert parity(clocks([])).schema == pl.Schema(PARITY)
    assert parity(clocks([])).is_empty()
    assert parity_period(clocks([])).is_empty()


@given(
    st.lists(
        st.tuples(
            st.sampled_from([JUNE, JULY]),
            st.sampled_from([R, S]),
            st.sampled_from(["client", "vendor", "unmapped"]),
            st.integers(0, 10_000),
            st.booleans(),
        ),
        max_size=60,
    )
)
def test_swapping_the_sides_flips_the_gap_and_keeps_p(
    rows: list[tuple[date, str, str, int, bool]],
) -> None:
    frame = clocks([(month, metric, "P1", side, e, met) for month, metric, side, e, met in rows])
    swapped = frame.with_columns(pl.col("side").replace({"client": "vendor", "vendor": "client"}))
    for result, mirror in (
        (parity(frame), parity(swapped)),
        (parity_period(frame), parity_period(swapped)),
    ):
        assert len(result) == len(mirror)
        for a, b in zip(result.iter_rows(named=True), mirror.iter_rows(named=True), strict=True):
            for measure in ("count", "met", "attainment", "median_seconds"):
                assert a[f"client_{measure}"] == b[f"vendor_{measure}"]
            assert (a["gap"], a["p_value"], a["test"]) == (
                None if b["gap"] is None else -b["gap"],
                b["p_value"],
                b["test"],
            )
            assert a["p_value"] is None or 0 <= a["p_value"] <= 1
            assert (a["p_value"] is None) == (not a["client_count"] or not a["vendor_count"])
            assert a["significant"] == (None if a["p_value"] is None else a["p_value"] < 0.05)


@given(
    st.lists(
        st.tuples(
            st.sampled_from([JUNE, JULY]),
            st.sampled_from([R, S]),
            st.sampled_from(["P1", "P2"]),
            st.sampled_from(["client", "vendor", "unmapped"]),
            st.integers(0, 10_000),
            st.booleans(),
        ),
        max_size=60,
    )
)
def test_stored_side_totals_compare_as_the_clocks_do(
    rows: list[tuple[date, str, str, str, int, bool]],
) -> None:
    """What a service stores per month (and for the period) is all parity needs."""
    frame = clocks(rows)
    monthly = side_totals(frame)
    period = side_totals(frame, ("metric", "priority"))
    assert compare_sides(monthly).equals(parity(frame))
    assert compare_sides(period).equals(parity_period(frame))
    # the rows as a database gives them back: plain integers, any order, other sides too
    stored = pl.DataFrame(monthly.to_dicts() + [_unmapped_row()]).sample(fraction=1.0, seed=1)
    assert compare_sides(stored).equals(parity(frame))


def _unmapped_row() -> dict[str, object]:
    return {
        "month": JUNE,
        "metric": R,
        "priority": "P1",
        "side": "unmapped",
        "count": 3,
        "met": 1,
        "median_seconds": 60,
    }


def test_side_totals_refuse_missing_columns() -> None:
    with pytest.raises(ValueError, match="no 'median_seconds' column"):
        compare_sides(
            pl.DataFrame(
                {"metric": [R], "priority": ["P1"], "side": ["client"], "count": [1], "met": [1]}
            )
        )
