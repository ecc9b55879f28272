"""Versioned SLA policies: a contract amendment changes the targets from the first of a month.

A policy history is a sequence of ``(effective_from, Policy)`` pairs, ``effective_from`` a
first day of a month, strictly increasing. Dates are days in the engagement's time zone
(``timezone``): a version takes effect at the first instant of that local day (local midnight,
or the end of the DST gap when midnight does not exist that day) and stays in force until the
next version takes effect. Versions are numbered by their position in the sequence, from 0
(``policy_version``).

The rules:

* **A ticket is measured under the version in force when it was opened** (its target, calendar
  and pause rule), whenever it responds or resolves: a ticket opened on 31 January keeps
  January's target, because that is what the vendor committed to when the ticket came in.
* **Tickets opened before the first version took effect are not measured**: no policy was
  agreed for them. They are returned apart (:attr:`VersionedMeasurements.before_first`) so a
  page can say "12 tickets opened before the first policy took effect were not measured".
* **A month's numbers use the goals and credit terms of the version in force that month.** A
  clock counts in the month it stopped (``attainment.py``), so a ticket opened in January under
  v1 and resolved in February under v2 is measured against v1's target, and its met / missed
  verdict counts in February's attainment, compared with v2's goal (and v2's credit terms). A
  goal joins on metric and priority: a February row for a target v2 no longer has gets no goal
  and no credit.
* **Earn-back follows the month of the credit**: a credit owed under v1 is earned back (or not)
  by the following months' attainment against v1's earn-back goal, even when those months fall
  under v2.

:func:`aggregates_versions`, :func:`attainment_versions` and :func:`credits_versions` compute
the plain tables once per version over all the measurements and keep each version's months;
the cost is one pass per version, and amendments are rare.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from tandem.analytics.aggregate import AGGREGATES, FINEST, aggregates
from tandem.analytics.attainment import ATTAINMENT, attainment
from tandem.analytics.credits import CREDITS, credits
from tandem.analytics.frames import MEASUREMENTS, UTC_INSTANT
from tandem.analytics.measure import measure
from tandem.analytics.policy import Policy

#: One version of the policy: in force from this first day of a month (local) on.
Version = tuple[date, Policy]

#: The column every table of this module adds: the position of the version in ``versions``.
POLICY_VERSION = "policy_version"
_VERSION_TYPE = pl.Int32()

#: The columns of :attr:`VersionedMeasurements.measurements`.
VERSIONED_MEASUREMENTS: dict[str, pl.DataType] = {**MEASUREMENTS, POLICY_VERSION: _VERSION_TYPE}
#: The columns of :func:`attainment_versions` and :func:`credits_versions`: the plain tables'
#: and the version whose goals (and credit terms) apply to the row's month.
VERSIONED_ATTAINMENT: dict[str, pl.DataType] = {**ATTAINMENT, POLICY_VERSION: _VERSION_TYPE}
VERSIONED_CREDITS: dict[str, pl.DataType] = {**CREDITS, POLICY_VERSION: _VERSION_TYPE}
#: :func:`aggregates_versions`: ``AGGREGATES`` (the ``by`` keys) and ``policy_version``.
VERSIONED_AGGREGATES: dict[str, pl.DataType] = {**AGGREGATES, POLICY_VERSION: _VERSION_TYPE}


@dataclass(frozen=True)
class VersionedMeasurements:
    """What :func:`measure_versions` returns."""

    #: ``MEASUREMENTS`` rows and ``policy_version``: by version, then as ``measure()`` orders
    #: them (ticket order, then the version's target order).
    measurements: pl.DataFrame
    #: The tickets (all their columns, in their order) opened before the first version took
    #: effect, which were not measured.
    before_first: pl.DataFrame


def measure_versions(
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    versions: Sequence[Version],
    as_of: datetime | None = None,
    *,
    timezone: str,
) -> VersionedMeasurements:
    """Each ticket measured by ``measure()`` under the version in force on the local day it was
    opened (see the module doc). Raises ``ValueError`` for a bad version list, duplicate ticket
    ids or a missing ``opened_at``, and whatever ``measure()`` refuses."""
    starts = _starts(versions, timezone)
    _check_tickets(tickets)
    opened = pl.col("opened_at").dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    # The version in force: how many versions had taken effect when the ticket opened, less 1.
    index = pl.sum_horizontal(
        *(opened >= pl.lit(start, UTC_INSTANT) for start in starts), pl.lit(0, _VERSION_TYPE)
    ) - pl.lit(1, _VERSION_TYPE)
    numbered = tickets.with_columns(index.cast(_VERSION_TYPE).alias(POLICY_VERSION))
    parts = [
        measure(
            numbered.filter(pl.col(POLICY_VERSION) == number).drop(POLICY_VERSION),
            holds,
            policy,
            as_of,
        ).with_columns(pl.lit(number, _VERSION_TYPE).alias(POLICY_VERSION))
        for number, (_, policy) in enumerate(versions)
    ]
    before = numbered.filter(pl.col(POLICY_VERSION) < 0).drop(POLICY_VERSION)
    measurements = pl.concat(parts, how="vertical").cast(VERSIONED_MEASUREMENTS)  # type: ignore[arg-type]
    return VersionedMeasurements(measurements, before)


def aggregates_versions(
    measurements: pl.DataFrame,
    tickets: pl.DataFrame,
    versions: Sequence[Version],
    sides: pl.DataFrame | None = None,
    *,
    timezone: str,
    by: tuple[str, ...] = FINEST,
) -> pl.DataFrame:
    """``aggregate.aggregates`` with each month's goals from the version in force that month,
    and ``policy_version``; ``by`` must include ``month``. ``measurements`` come from
    :func:`measure_versions` (the ``policy_version`` column is not needed)."""
    if "month" not in by:
        raise ValueError(f"by: {by!r} must include month (goals change from month to month)")
    return _per_month(
        versions,
        timezone,
        lambda policy: aggregates(measurements, tickets, policy, sides, timezone=timezone, by=by),
    )


def attainment_versions(
    measurements: pl.DataFrame, tickets: pl.DataFrame, versions: Sequence[Version], *, timezone: str
) -> pl.DataFrame:
    """``attainment.attainment`` per month with each month's goals from its version, and
    ``policy_version`` (:data:`VERSIONED_ATTAINMENT`)."""
    return _per_month(
        versions,
        timezone,
        lambda policy: attainment(measurements, tickets, policy, timezone=timezone),
    )


def credits_versions(
    measurements: pl.DataFrame, tickets: pl.DataFrame, versions: Sequence[Version], *, timezone: str
) -> pl.DataFrame:
    """``credits.credits`` with each month's goals, allocations and terms from its version, and
    ``policy_version`` (:data:`VERSIONED_CREDITS`). Earn-back looks at all the later months
    (see the module doc); ``credits.credit_totals`` applies to the result as it is."""
    return _per_month(
        versions,
        timezone,
        lambda policy: credits(
            attainment(measurements, tickets, policy, timezone=timezone), policy
        ),
    )


def _per_month(
    versions: Sequence[Version], timezone: str, table: Callable[[Policy], pl.DataFrame]
) -> pl.DataFrame:
    """``table(policy)`` for each version, keeping the months of the version's span."""
    _starts(versions, timezone)
    parts = []
    for number, (start, policy) in enumerate(versions):
        month = pl.col("month")
        span = month >= start
        if number + 1 < len(versions):
            span &= month < versions[number + 1][0]
        parts.append(
            table(policy)
            .filter(span)
            .with_columns(pl.lit(number, _VERSION_TYPE).alias(POLICY_VERSION))
        )
    return pl.concat(parts, how="vertical")


def _check_tickets(tickets: pl.DataFrame) -> None:
    """What splitting needs (``measure()`` checks the rest, but only within one version)."""
    for column in ("ticket_id", "opened_at"):
        if column not in tickets.columns:
            raise ValueError(f"tickets: no {column!r} column")
    dtype = tickets.schema["opened_at"]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ValueError(f"opened_at: expected a time-zone-aware Datetime, got {dtype}")
    missing = tickets.filter(pl.col("opened_at").is_null())["ticket_id"]
    if len(missing):
        raise ValueError(f"tickets: no opened_at for {_some(missing)}")
    if tickets["ticket_id"].n_unique() != len(tickets):
        duplicated = tickets.filter(pl.col("ticket_id").is_duplicated())["ticket_id"]
        raise ValueError(f"tickets: duplicate ticket ids {_some(duplicated)}")


def _some(ids: pl.Series) -> str:
    shown = ", ".join(ids.unique(maintain_order=True).head(5).cast(pl.String).to_list())
    return shown + (" …" if ids.n_unique() > 5 else "")


def _starts(versions: Sequence[Version], timezone: str) -> list[datetime]:
    """The UTC instant each version takes effect; ``ValueError`` for a bad version list."""
    if not versions:
        raise ValueError("versions: at least one (effective_from, policy) is required")
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: unknown time zone {timezone!r}") from None
    starts = []
    for i, (effective_from, _) in enumerate(versions):
        if isinstance(effective_from, datetime) or not isinstance(effective_from, date):
            raise ValueError(f"versions[{i}]: effective_from {effective_from!r} is not a date")
        if effective_from.day != 1:
            raise ValueError(
                f"versions[{i}]: effective_from {effective_from.isoformat()} is not the first "
                "day of a month (amendments take effect from the first of a month)"
            )
        if i and effective_from <= versions[i - 1][0]:
            raise ValueError(
                f"versions[{i}]: effective_from {effective_from.isoformat()} is not after "
                f"versions[{i - 1}]'s {versions[i - 1][0].isoformat()} (sort them, no repeats)"
            )
        # fold=0: a midnight lost to DST maps to the end of the gap, the day's first instant.
        local = datetime.combine(effective_from, time(0), tzinfo=zone)
        starts.append(local.astimezone(UTC))
    return starts
