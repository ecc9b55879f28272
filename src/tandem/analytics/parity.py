"""Internal-vs-vendor parity: do the hospital's own team and the vendor meet the same service
levels equally often? The goal is that "end users cannot tell the difference between internal
or external support quality".

**What is compared.** For each month, metric and priority (:func:`parity`), or for the whole
period given (:func:`parity_period`), the two sides stand next to each other: how many clocks
each side stopped (``count``), how many of them met their target (``met``), the share that did
(``attainment``, ``met / count``) and the median elapsed time. The ``gap`` is vendor attainment
minus client attainment, as a fraction: ``+0.05`` means the vendor met its targets 5 points
more often than the internal team, ``-0.05`` 5 points less often. The rows are the ones the
aggregates count (``aggregate.stopped_clocks``): stopped clocks only, in the month (engagement
time zone) in which they stopped. Clocks of assignment groups mapped to no side (``unmapped``)
belong to neither team and are left out. A side with no clocks has no attainment, so that row
has no gap and no test (nulls).

**Is the gap real or luck?** With few tickets, a large gap can be chance: if each side
resolved four P1 incidents, "3 of 4 on time" against "1 of 4" looks like a 50-point gap, yet
two equally good teams would show a split at least that uneven about half the time
(p = 0.49). The ``p_value`` answers one question: *if both teams really had the same chance of
meeting the target, how often would chance alone produce a gap at least this large, in either
direction, with these ticket counts?* Below ``alpha`` (0.05 by default) the row is marked
``significant``: chance is an unlikely explanation.

What the p-value does **not** say:

* how large or how important the gap is: with thousands of tickets a 1-point gap can be
  "significant", and with a dozen a 30-point gap may not be; read it next to ``gap``;
* why there is a gap: the two sides may not get the same kind of tickets (the vendor may get
  the hard ones, or the night shift);
* that the sides are equal when it is large: "not significant" means there is not enough
  evidence of a difference, often simply because there are too few tickets;
* anything about one row among many: looking at twelve months × four priorities × two metrics,
  about one comparison in twenty is "significant" by chance alone even when the teams are
  exactly alike.

**The tests.** Each row is a 2 × 2 table (side × met or missed). When the numbers are small
(at most :data:`FISHER_UP_TO` clocks in total, or any cell's expected count below
:data:`MIN_EXPECTED`, the usual rule of thumb) the p-value is **Fisher's exact test**: keeping
both sides' counts and the total number of met clocks fixed, it considers every way the met
clocks could have been split between the sides, with its exact probability (hypergeometric,
computed in integers), and adds up the probabilities of all the splits no more likely than
the one observed (the usual two-sided rule, with the relative tolerance of 10⁻⁷ that R and
SciPy use so that splits equally likely up to rounding count alike). Otherwise it is the
**pooled two-proportion z-test** (the normal approximation; no continuity correction), which
agrees closely with Fisher's test at those sizes and costs nothing to compute. ``test`` says
which was used (``"fisher"`` or ``"z"``). Both are symmetric: swapping the sides flips the
sign of the gap and leaves the p-value unchanged.
"""

from __future__ import annotations

from fractions import Fraction
from math import comb, erfc, sqrt

import polars as pl

from tandem.analytics.aggregate import BY_PRIORITY, SIDE_NAMES

#: The default significance level: a row is ``significant`` when ``p_value < alpha``.
ALPHA = 0.05
#: Fisher's exact test for tables of at most this many clocks (both sides together).
FISHER_UP_TO = 1000
#: ... and for any table with a cell whose expected count (row × column / total) is below this.
MIN_EXPECTED = 5
#: Two-sided Fisher: a table counts as extreme when its probability is at most
#: (1 + 10⁻⁷) × the observed one's (R's ``fisher.test`` and SciPy use the same tolerance).
_TOLERANCE = Fraction(10**7 + 1, 10**7)

#: The columns of :func:`parity`: one row per month × metric × priority with any client or
#: vendor clock. :func:`parity_period` has the same columns without ``month``.
PARITY: dict[str, pl.DataType] = {
    "month": pl.Date(),  # the first day of the month the clocks stopped in
    "metric": pl.String(),
    "priority": pl.String(),
    "client_count": pl.UInt32(),  # stopped clocks of the client (internal) team; 0: none
    "client_met": pl.UInt32(),
    "client_attainment": pl.Float64(),  # client_met / client_count; null when no clocks
    "client_median_seconds": pl.Int64(),  # nearest-rank median elapsed (as in aggregate.py)
    "vendor_count": pl.UInt32(),
    "vendor_met": pl.UInt32(),
    "vendor_attainment": pl.Float64(),
    "vendor_median_seconds": pl.Int64(),
    "gap": pl.Float64(),  # vendor_attainment - client_attainment; null when a side has none
    "test": pl.String(),  # "fisher" or "z"; null when a side has no clocks
    "p_value": pl.Float64(),  # two-sided, in [0, 1]; null when a side has no clocks
    "significant": pl.Boolean(),  # p_value < alpha; null when there is no p_value
}
PARITY_PERIOD: dict[str, pl.DataType] = {k: v for k, v in PARITY.items() if k != "month"}

_MEASURES = ("count", "met", "median_seconds")


def parity(clocks: pl.DataFrame, *, alpha: float = ALPHA) -> pl.DataFrame:
    """Client and vendor side by side per month × metric × priority, with the gap and its
    significance (see the module doc); sorted by month, metric, priority.

    ``clocks`` is the frame of ``aggregate.stopped_clocks(measurements, tickets,
    timezone=..., sides=...)`` (at least ``month``, ``metric``, ``priority``, ``side``,
    ``elapsed_seconds``, ``met``), so the counts are those of ``aggregates(..., by=BY_SIDE)``.
    """
    return _parity(clocks, BY_PRIORITY, alpha)


def parity_period(clocks: pl.DataFrame, *, alpha: float = ALPHA) -> pl.DataFrame:
    """As :func:`parity` over all the months in ``clocks`` together, per metric × priority
    (filter ``clocks`` on ``month`` for a shorter period): counts are the sums over the months,
    medians those of all the period's clocks."""
    return _parity(clocks, ("metric", "priority"), alpha)


def side_totals(clocks: pl.DataFrame, keys: tuple[str, ...] = BY_PRIORITY) -> pl.DataFrame:
    """What the comparison needs of ``clocks``, per ``keys`` × side (client and vendor only):
    ``count``, ``met`` and ``median_seconds``, the numbers ``aggregates(..., by=BY_SIDE)``
    stores for each month. :func:`compare_sides` compares them; a service that stores them per
    month and for its whole period need not keep the clocks to show parity."""
    for column in (*keys, "side", "elapsed_seconds", "met"):
        if column not in clocks.columns:
            raise ValueError(f"clocks: no {column!r} column")
    return (
        clocks.filter(pl.col("side").is_in(SIDE_NAMES))
        .group_by(*keys, "side")
        .agg(
            pl.len().cast(pl.UInt32).alias("count"),
            pl.col("met").sum().cast(pl.UInt32).alias("met"),
            _median().alias("median_seconds"),
        )
        .sort(*keys, "side")
    )


def compare_sides(totals: pl.DataFrame, *, alpha: float = ALPHA) -> pl.DataFrame:
    """:func:`parity` (when ``totals`` has a ``month`` column) or :func:`parity_period` from
    :func:`side_totals`' rows: ``metric``, ``priority``, ``side``, ``count``, ``met``,
    ``median_seconds``. Rows of other sides are left out."""
    _check_alpha(alpha)
    keys = BY_PRIORITY if "month" in totals.columns else ("metric", "priority")
    for column in (*keys, "side", *_MEASURES):
        if column not in totals.columns:
            raise ValueError(f"side totals: no {column!r} column")
    per_side = totals.filter(pl.col("side").is_in(SIDE_NAMES)).select(
        *keys,
        "side",
        pl.col("count").cast(pl.UInt32),
        pl.col("met").cast(pl.UInt32),
        pl.col("median_seconds").cast(pl.Int64),
    )
    return _compared(per_side, keys, alpha)


def compare(
    client_met: int, client_count: int, vendor_met: int, vendor_count: int
) -> tuple[str, float]:
    """The test the module doc prescribes for these counts and its two-sided p-value:
    ``("fisher", p)`` or ``("z", p)``. Both sides need at least one clock."""
    _check(client_met, client_count, vendor_met, vendor_count)
    total = client_count + vendor_count
    met = client_met + vendor_met
    # The smallest expected cell is the smaller row total × the smaller column total / total.
    smallest = min(client_count, vendor_count) * min(met, total - met)
    if total <= FISHER_UP_TO or smallest < MIN_EXPECTED * total:
        return "fisher", fisher_exact(client_met, client_count, vendor_met, vendor_count)
    return "z", z_test(client_met, client_count, vendor_met, vendor_count)


def fisher_exact(client_met: int, client_count: int, vendor_met: int, vendor_count: int) -> float:
    """Fisher's exact test, two-sided, on the table ``[[client_met, client missed], [vendor_met,
    vendor missed]]``, in exact integer arithmetic.

    With the row totals and the number of met clocks ``m`` fixed, the client's met count ``k``
    has weight ``C(m, k) × C(total - m, client_count - k)`` (its probability times
    ``C(total, client_count)``). The weights are walked with their exact ratio, so each step
    costs one small multiplication and division however large the numbers grow.
    """
    _check(client_met, client_count, vendor_met, vendor_count)
    total = client_count + vendor_count
    met = client_met + vendor_met
    missed = total - met
    observed = comb(met, client_met) * comb(missed, client_count - client_met)
    bound = observed * _TOLERANCE.numerator
    low, high = max(0, client_count - missed), min(client_count, met)
    weight = comb(met, low) * comb(missed, client_count - low)
    extreme = everything = 0
    for k in range(low, high + 1):
        everything += weight
        if weight * _TOLERANCE.denominator <= bound:
            extreme += weight
        # C(m, k+1) C(r, n-k-1) = C(m, k) C(r, n-k) × (m-k)(n-k) / ((k+1)(r-n+k+1)), exactly.
        weight = (
            weight * (met - k) * (client_count - k) // ((k + 1) * (missed - client_count + k + 1))
        )
    return min(1.0, extreme / everything)  # big-integer division, correctly rounded


def z_test(client_met: int, client_count: int, vendor_met: int, vendor_count: int) -> float:
    """The pooled two-proportion z-test, two-sided: ``z = (p₂ - p₁) / sqrt(p (1 - p) (1/n₁ +
    1/n₂))`` with ``p`` the pooled share met, and ``p_value = erfc(|z| / √2)``. ``z²`` is formed
    exactly from the integers first. p = 1 when every clock met (or every clock missed)."""
    _check(client_met, client_count, vendor_met, vendor_count)
    total = client_count + vendor_count
    met = client_met + vendor_met
    if met in (0, total):
        return 1.0
    difference = vendor_met * client_count - client_met * vendor_count
    z_squared = Fraction(
        difference * difference * total, client_count * vendor_count * met * (total - met)
    )
    return erfc(sqrt(z_squared) / sqrt(2))


def _check(client_met: int, client_count: int, vendor_met: int, vendor_count: int) -> None:
    for side, met, count in (
        ("client", client_met, client_count),
        ("vendor", vendor_met, vendor_count),
    ):
        if count < 1 or not 0 <= met <= count:
            raise ValueError(
                f"{side}: {met} met of {count} clocks (need 0 <= met <= count, count >= 1)"
            )


def _parity(clocks: pl.DataFrame, keys: tuple[str, ...], alpha: float) -> pl.DataFrame:
    _check_alpha(alpha)
    return _compared(side_totals(clocks, keys), keys, alpha)


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: {alpha!r} must be between 0 and 1, e.g. 0.05")


def _compared(per_side: pl.DataFrame, keys: tuple[str, ...], alpha: float) -> pl.DataFrame:
    client, vendor = (
        per_side.filter(pl.col("side") == side)
        .drop("side")
        .rename({m: f"{side}_{m}" for m in _MEASURES})
        for side in SIDE_NAMES
    )
    table = (
        client.join(vendor, on=list(keys), how="full", coalesce=True, nulls_equal=True)
        .with_columns(
            pl.col(f"{side}_{m}").fill_null(0) for side in SIDE_NAMES for m in ("count", "met")
        )
        .with_columns(
            pl.when(pl.col(f"{side}_count") > 0)
            .then(pl.col(f"{side}_met") / pl.col(f"{side}_count"))
            .alias(f"{side}_attainment")
            for side in SIDE_NAMES
        )
        .with_columns((pl.col("vendor_attainment") - pl.col("client_attainment")).alias("gap"))
        .sort(list(keys), nulls_last=True)
    )
    tests: list[str | None] = []
    p_values: list[float | None] = []
    for client_met, client_count, vendor_met, vendor_count in table.select(
        "client_met", "client_count", "vendor_met", "vendor_count"
    ).iter_rows():
        if client_count and vendor_count:
            test, p_value = compare(client_met, client_count, vendor_met, vendor_count)
            tests.append(test)
            p_values.append(p_value)
        else:
            tests.append(None)
            p_values.append(None)
    table = table.with_columns(
        pl.Series("test", tests, pl.String()), pl.Series("p_value", p_values, pl.Float64())
    ).with_columns((pl.col("p_value") < alpha).alias("significant"))
    schema = PARITY if "month" in keys else PARITY_PERIOD
    return table.select(list(schema)).cast(schema)  # type: ignore[arg-type]


def _median() -> pl.Expr:
    """The nearest-rank 50th percentile, the rule of ``aggregate.py``: rank ``ceil(n / 2)``."""
    rank = (pl.len().cast(pl.Int64) * 50 + 99) // 100
    return pl.col("elapsed_seconds").sort().get(rank - 1)
