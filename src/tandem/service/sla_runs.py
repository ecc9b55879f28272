"""SLA runs: measure an engagement's stored tickets against its policy versions and store
what the engine found (measurements, aggregates at three levels, credit lines).

Three functions, in the order a run lives:

- ``create_run`` records a queued run (refused with ``RunRefused`` when there is nothing to
  measure: no policy version, no ticket);
- ``execute_run`` does the work, synchronously: read the tickets, measure them under the
  version in force when each was opened (``tandem.analytics.versions``), sum them up, work
  out the credits, and write everything in one transaction. A failure anywhere leaves no
  row behind and marks the run ``failed`` with the reason;
- ``start_run`` is ``create_run`` plus the background task (``tasks_sla.run_sla``) with a
  progress bar, for pages and the API; ``create_run_here`` is ``create_run`` plus a progress
  bar for a run this process executes itself (``tandem run_sla``, whose progress beats like a
  worker's: a killed command's run is failed within the lease).

The rows are bulk data (``EngagementBulkModel``): no audit record each. The run itself is
audited twice: when it is queued (its "create") and once when it ends, with the counts in
the record's message (as ``services.import_tickets`` records its batch once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from tandem.analytics import parity as parity_engine
from tandem.analytics import versions as engine
from tandem.analytics.aggregate import BY_PRIORITY, BY_SIDE, FINEST, UNMAPPED
from tandem.analytics.frames import SIDES
from tandem.analytics.measure import STOPS
from tandem.core import audit
from tandem.core.access import can_add
from tandem.core.choices import AuditAction, AuditSource
from tandem.core.models import Engagement, Progress, User
from tandem.core.services import NotAllowed
from tandem.service.choices import AggregateLevel, AsOfBasis, RunStatus
from tandem.service.models import (
    AssignmentGroupSide,
    ServiceCredit,
    SlaAggregate,
    SlaMeasurement,
    SlaPolicy,
    SlaRun,
    Ticket,
    TicketHold,
)
from tandem.service.services import ticket_frames

logger = logging.getLogger(__name__)

Report = Callable[[int, str], None]

#: Rows per INSERT batch (``bulk_create`` and the prepared ``executemany``).
BATCH_SIZE = 5_000

#: Open clocks at or over this share of their target (in percent) are "at risk".
AT_RISK_PERCENT = 75

_LEVELS = (
    (AggregateLevel.GROUP, FINEST),
    (AggregateLevel.SIDE, BY_SIDE),
    (AggregateLevel.PRIORITY, BY_PRIORITY),
)


class RunRefused(ValueError):
    """A run cannot be created or executed as asked; the message says why."""


# Creating ----------------------------------------------------------------------------------


def create_run(
    *,
    engagement: Engagement,
    user: User | None,
    as_of: datetime | None = None,
    as_of_basis: str | None = None,
) -> SlaRun:
    """Record a queued run of ``engagement`` as of ``as_of``, months cut in the engagement's
    time zone. ``user`` is who starts it (``None``: the system).

    Without ``as_of`` the run measures as of :func:`default_as_of`: now, or the last imported
    event when the tickets are an historical export (open tickets measured up to today would
    show clocks running for years). ``as_of_basis`` records why (default: given, or the
    default's reason); a retry passes the failed run's own.

    The run gets the engagement's next number (``Run #3``) in the transaction that saves it:
    the engagement's row is locked (PostgreSQL; SQLite transactions take the write lock at
    their start), and the unique (engagement, number) constraint backs it with a retry.
    """
    if user is not None and not can_add(user, SlaRun, engagement):
        raise NotAllowed("Your role in this engagement may not start SLA runs.")
    # A new instant is a choice only the client's leads make; a retry repeats the failed
    # run's own instant (it passes its basis), which is no new choice.
    chosen = as_of is not None and as_of_basis is None
    if chosen and user is not None and not may_choose_as_of(user, engagement):
        raise NotAllowed(AS_OF_REFUSED)
    if as_of is None:
        as_of, basis = default_as_of(engagement)
    elif as_of.tzinfo is None or as_of.utcoffset() is None:
        raise RunRefused("as_of must carry a time zone (a naive time is ambiguous).")
    else:
        basis = AsOfBasis.GIVEN
    if not SlaPolicy.objects.filter(engagement=engagement).exists():
        raise RunRefused(f"{engagement} has no SLA policy version yet: add one before measuring.")
    if not Ticket.objects.filter(engagement=engagement).exists():
        raise RunRefused(f"{engagement} has no tickets yet: import a service-desk export first.")
    busy = busy_run(engagement)
    if busy is not None:
        raise RunRefused(
            f"{busy.label} of {engagement} is {busy.get_status_display().lower()}: "
            "wait for it to finish."
        )
    run = SlaRun(
        engagement=engagement,
        status=RunStatus.QUEUED,
        # Whole seconds: the engine counts whole seconds, and the run shows what it used.
        as_of=as_of.astimezone(UTC).replace(microsecond=0),
        as_of_basis=as_of_basis or basis,
        time_zone=engagement.time_zone,
        started_by=user,
    )
    with transaction.atomic():
        # NO KEY UPDATE: serializes the runs of one engagement without waiting for an import,
        # which holds a key-share lock on the same row for its whole transaction.
        locked = Engagement.objects.select_for_update(no_key=True).filter(pk=engagement.pk)
        list(locked.values_list("pk", flat=True))
        for attempt in range(NUMBER_ATTEMPTS):
            run.number = next_number(engagement)
            try:
                with transaction.atomic():
                    run.save()  # audited ("create") by the model signals
            except IntegrityError:
                run.pk = None
                if attempt + 1 == NUMBER_ATTEMPTS:
                    raise
            else:
                break
    return run


#: Tries at the next run number when another run of the engagement took it meanwhile.
NUMBER_ATTEMPTS = 3


AS_OF_REFUSED = (
    "Only the client's sponsor and IT lead choose the instant a run measures as of (it decides "
    "which clocks count); leave it empty to measure as of the default."
)


def may_choose_as_of(user: User, engagement: Engagement) -> bool:
    """May ``user`` choose the instant a run of ``engagement`` measures as of?

    The as-of instant decides which open clocks count, and the dashboards headline the latest
    run: it belongs to the terms area (the measured party never chooses its measurement).
    Anyone who may start a run may start one as of the default.
    """
    return can_add(user, SlaPolicy, engagement)


def next_number(engagement: Engagement) -> int:
    """The number the engagement's next run gets: one more than the highest so far."""
    highest = SlaRun.objects.filter(engagement=engagement).aggregate(highest=Max("number"))
    return (highest["highest"] or 0) + 1


#: Tickets whose last event is older than this are an historical export: a run without an
#: as-of instant measures them as of that last event, not now.
HISTORICAL_AFTER = timedelta(days=1)


def last_event(engagement: Engagement) -> datetime | None:
    """The latest instant the engagement's imported tickets know of: opened, responded,
    resolved or closed, or a hold's start or end (two aggregate queries)."""
    ticket_times = Ticket.objects.filter(engagement=engagement).aggregate(
        opened=Max("opened_at"),
        responded=Max("responded_at"),
        resolved=Max("resolved_at"),
        closed=Max("closed_at"),
    )
    hold_times = TicketHold.objects.filter(engagement=engagement).aggregate(
        start=Max("start"), end=Max("end")
    )
    instants = [t for t in (*ticket_times.values(), *hold_times.values()) if t is not None]
    return max(instants) if instants else None


def default_as_of(
    engagement: Engagement, *, now: datetime | None = None
) -> tuple[datetime, AsOfBasis]:
    """The as-of instant of a run nobody gave one: now, unless the imported tickets ended
    more than :data:`HISTORICAL_AFTER` ago (an historical export), then their last event."""
    now = now or timezone.now()
    latest = last_event(engagement)
    if latest is not None and latest < now - HISTORICAL_AFTER:
        return latest, AsOfBasis.LAST_EVENT
    return now, AsOfBasis.NOW


def busy_run(engagement: Engagement) -> SlaRun | None:
    """The run that keeps another from starting: queued or running, and alive.

    Dead work is reaped first (``tandem.core.tasks_recovery``): a run whose worker (or
    ``tandem run_sla`` process) died or never started it is failed there and then, so the
    engagement is free at once. A run is alive while its progress is queued or running; one
    without a progress is just created and not yet linked to its task (a double click: alive
    for one lease).
    """
    from tandem.core.choices import ProgressState
    from tandem.core.tasks_recovery import lease_seconds, reap_dead_work

    reap_dead_work()
    now = timezone.now()
    lease = timedelta(seconds=lease_seconds())
    # A run left open without a progress bar past the lease (made before runs had one, or
    # whose creator died before queueing it) can never finish: it fails and frees the way.
    for orphan in SlaRun.objects.filter(
        engagement=engagement,
        status__in=[RunStatus.QUEUED, RunStatus.RUNNING],
        progress__isnull=True,
        started_at__lt=now - lease,
    ):
        fail_run(orphan, ORPHANED)
    alive = Q(progress__state__in=[ProgressState.QUEUED, ProgressState.RUNNING]) | Q(
        progress__isnull=True,
        status=RunStatus.QUEUED,
        started_at__gte=now - lease,
    )
    open_runs = SlaRun.objects.filter(
        engagement=engagement, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    )
    return open_runs.filter(alive).first()


ORPHANED = (
    "This run was never picked up by a worker (no progress bar past the lease); nothing was saved."
)


def fail_run(run: SlaRun, reason: str) -> bool:
    """End an open run as failed with ``reason`` (audited, system); False if it had ended."""
    before = audit.snapshot(run)
    ended = SlaRun.objects.filter(
        pk=run.pk, status__in=[RunStatus.QUEUED, RunStatus.RUNNING]
    ).update(status=RunStatus.FAILED, error=reason, finished_at=max(timezone.now(), run.started_at))
    if not ended:
        return False
    run.refresh_from_db()
    with audit.audit_context(source=AuditSource.SYSTEM):
        audit.record(
            run,
            action=AuditAction.UPDATE,
            before=before,
            after=audit.snapshot(run),
            message=summary(run)[:300],
        )
    return True


def start_run(
    *,
    engagement: Engagement,
    user: User,
    as_of: datetime | None = None,
    as_of_basis: str | None = None,
) -> tuple[SlaRun, Progress]:
    """Create a run and queue it as a background task; the progress bar is ``Progress``.

    Every party of the engagement may follow the bar (``owner_only=False``): a run is
    engagement data. With the immediate task backend (tests) the run has ended on return.
    """
    from tandem.core.tasks import start_with_progress
    from tandem.service.tasks_sla import run_sla

    run = create_run(engagement=engagement, user=user, as_of=as_of, as_of_basis=as_of_basis)
    progress = start_with_progress(run_sla, **_progress_of(run, user))
    SlaRun.objects.filter(pk=run.pk, progress__isnull=True).update(progress=progress)
    run.refresh_from_db()
    return run, progress


def _progress_of(run: SlaRun, user: User | None) -> dict[str, Any]:
    """A run's progress bar: every party of the engagement may follow it."""
    from tandem.service.tasks_sla import SLA_RUN_KIND

    return {
        "owner": user,
        "label": f"SLA {run.label} of {run.engagement.name}",
        "kind": SLA_RUN_KIND,
        "engagement": run.engagement,
        "owner_only": False,
        "run_id": run.pk,
    }


def create_run_here(
    *, engagement: Engagement, user: User | None, as_of: datetime | None = None
) -> tuple[SlaRun, Progress]:
    """Create a run that this process executes itself (``tandem run_sla``), with its progress.

    The run and its progress (running, this process its worker, see
    ``tandem.core.tasks.progress_here``) are created in one transaction: whenever the process
    dies, the reaper finds the progress once the lease expires and fails the run, as for a
    worker's. Run the work with ``run_with_progress(progress, tasks_sla.execute...)``.
    """
    from tandem.core.tasks import progress_here
    from tandem.service.tasks_sla import run_sla

    with transaction.atomic():
        run = create_run(engagement=engagement, user=user, as_of=as_of)
        progress = progress_here(run_sla, **_progress_of(run, user))
        SlaRun.objects.filter(pk=run.pk).update(progress=progress)
    run.refresh_from_db()
    return run, progress


# Executing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Results:
    """What the engine made of the tickets, ready to store."""

    policies: list[SlaPolicy]
    measurements: pl.DataFrame  # SlaMeasurement columns (see _measurement_rows)
    aggregates: list[SlaAggregate]
    credits: list[ServiceCredit]
    tickets_total: int
    tickets_measured: int
    breaches: int
    at_risk: int
    side_totals: list[dict[str, Any]]


def execute_run(run: SlaRun, *, report: Report | None = None) -> SlaRun:
    """Measure, aggregate, credit and store, now; return the run, ``done`` or ``failed``.

    The run must be queued (``RunRefused`` otherwise: a run is executed once). ``report``
    receives ``(percent, message)`` at each stage. On any error the run is ``failed`` with
    the reason in ``error`` and nothing else is stored; the error is logged, not raised.
    """
    report = report or _silent
    started = timezone.now()
    claimed = SlaRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=started
    )
    run.refresh_from_db()
    if not claimed:
        raise RunRefused(f"{run.label} is {run.get_status_display().lower()}, not queued.")
    before = audit.snapshot(run)
    try:
        results = _compute(run, report)
        report(60, f"Storing {results.measurements.height:,} measurements")
        with transaction.atomic():
            _store(run, results, report)
            _finish(
                run,
                before,
                status=RunStatus.DONE,
                tickets_measured=results.tickets_measured,
                tickets_not_measured=results.tickets_total - results.tickets_measured,
                measurements_count=results.measurements.height,
                breaches_count=results.breaches,
                at_risk_count=results.at_risk,
                side_totals=results.side_totals,
            )
            run.policies.set(results.policies)
    except Exception as exc:
        logger.exception("SLA run %s failed", run.pk)
        with transaction.atomic():
            _finish(run, before, status=RunStatus.FAILED, error=_describe(exc))
        report(100, "Failed")
        return run
    report(100, summary(run))
    return run


def summary(run: SlaRun) -> str:
    """``measured 1,234 tickets (2,400 clocks): 37 breaches, 5 at risk`` or the failure."""
    if run.status == RunStatus.FAILED:
        return f"failed: {run.error}"
    if run.status != RunStatus.DONE:
        return run.get_status_display().lower()
    text = (
        f"measured {run.tickets_measured:,} tickets ({run.measurements_count:,} clocks): "
        f"{run.breaches_count:,} breaches, {run.at_risk_count:,} at risk"
    )
    if run.tickets_not_measured:
        text += f"; {run.tickets_not_measured:,} tickets not measured"
    return text


def _finish(run: SlaRun, before: dict[str, Any], *, status: str, **fields: Any) -> None:
    """Record how the run ended (a queryset update, then the run's one audit record)."""
    finished = max(timezone.now(), run.started_at)
    SlaRun.objects.filter(pk=run.pk).update(status=status, finished_at=finished, **fields)
    run.refresh_from_db()
    audit.record(
        run,
        action=AuditAction.UPDATE,
        before=before,
        after=audit.snapshot(run),
        message=summary(run),
    )


def _describe(exc: Exception) -> str:
    from tandem.core.errors import redact_paths  # no server path in what people read

    if isinstance(exc, ValueError):  # the engine's and the policy's: written for people
        return redact_paths(str(exc))
    detail = redact_paths(str(exc))
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _silent(percent: int, message: str) -> None:
    return None


# Computing ---------------------------------------------------------------------------------


def _compute(run: SlaRun, report: Report) -> _Results:
    engagement = run.engagement
    zone = run.time_zone
    report(2, "Reading tickets")
    tickets, holds = ticket_frames(engagement)
    if tickets.height == 0:
        raise RunRefused("The engagement has no tickets left to measure.")
    policies = list(SlaPolicy.objects.filter(engagement=engagement).order_by("effective_from"))
    if not policies:
        raise RunRefused("The engagement has no SLA policy version left.")
    versions = [(policy.effective_from, _parsed(policy)) for policy in policies]
    sides = pl.DataFrame(
        list(
            AssignmentGroupSide.objects.filter(engagement=engagement).values_list(
                "assignment_group", "side"
            )
        ),
        schema=SIDES,
        orient="row",
    )
    report(15, f"Measuring {tickets.height:,} tickets")
    measured = _measure(tickets, holds, versions, run.as_of, zone)
    report(40, "Summing up by month, priority, group and side")
    numbers = [policy.version for policy in policies]
    tables = {
        level: engine.aggregates_versions(measured, tickets, versions, sides, timezone=zone, by=by)
        for level, by in _LEVELS
    }
    aggregates = [
        row for level, table in tables.items() for row in _aggregate_rows(run, level, table)
    ]
    report(50, "Working out service credits")
    credit_lines = engine.credits_versions(measured, tickets, versions, timezone=zone)
    credits = _credit_rows(run, credit_lines, numbers)
    report(55, "Preparing measurements")
    rows = _measurement_rows(run, measured, tickets, sides, numbers)
    elapsed, target = pl.col("elapsed_seconds"), pl.col("target_seconds")
    at_risk = rows.filter(
        pl.col("month").is_null() & pl.col("met") & (elapsed * 100 >= target * AT_RISK_PERCENT)
    ).height
    # The versions this run used get frozen: those some ticket was measured under, and
    # those whose goals or credit terms applied to a month with stopped clocks.
    used = {
        int(number)
        for frame in (measured, tables[AggregateLevel.PRIORITY], credit_lines)
        for number in frame[engine.POLICY_VERSION].unique().to_list()
    }
    return _Results(
        policies=[policy for index, policy in enumerate(policies) if index in used],
        measurements=rows,
        aggregates=aggregates,
        credits=credits,
        tickets_total=tickets.height,
        tickets_measured=measured["ticket_id"].n_unique(),
        breaches=rows.filter(~pl.col("met")).height,
        at_risk=at_risk,
        side_totals=_side_totals(rows),
    )


def _side_totals(rows: pl.DataFrame) -> list[dict[str, Any]]:
    """``SlaRun.side_totals``: the whole period's stopped clocks per metric × priority × side
    (a median cannot be made of the months' medians, so it is taken here, once)."""
    stopped = rows.filter(pl.col("month").is_not_null())
    totals = parity_engine.side_totals(stopped, ("metric", "priority"))
    return [
        {**row, "count": int(row["count"]), "met": int(row["met"])}
        for row in totals.iter_rows(named=True)
    ]


def _parsed(policy: SlaPolicy) -> Any:
    try:
        return policy.parsed()
    except ValueError as exc:
        raise RunRefused(f"Policy version {policy.version}: {exc}") from exc


def _measure(
    tickets: pl.DataFrame,
    holds: pl.DataFrame,
    versions: list[tuple[Any, Any]],
    as_of: datetime,
    zone: str,
) -> pl.DataFrame:
    """``MEASUREMENTS`` rows and ``policy_version`` (the version's position, from 0)."""
    return engine.measure_versions(tickets, holds, versions, as_of, timezone=zone).measurements


def _measurement_rows(
    run: SlaRun,
    measured: pl.DataFrame,
    tickets: pl.DataFrame,
    sides: pl.DataFrame,
    numbers: list[int],
) -> pl.DataFrame:
    """One row per stored ``SlaMeasurement``, its columns named as the model's fields."""
    ids = pl.DataFrame(
        list(Ticket.objects.filter(engagement_id=run.engagement_id).values_list("ticket_id", "pk")),
        schema={"ticket_id": pl.String(), "ticket": pl.Int64()},
        orient="row",
    )
    stops = tickets.select(
        "ticket_id",
        "priority",
        "assignment_group",
        *(pl.col(column).alias(metric) for metric, column in STOPS.items()),
    ).unpivot(
        index=["ticket_id", "priority", "assignment_group"],
        variable_name="metric",
        value_name="stopped_at",
    )
    month = pl.col("stopped_at").dt.convert_time_zone(run.time_zone).dt.month_start().dt.date()
    version = pl.col(engine.POLICY_VERSION).replace_strict(
        list(range(len(numbers))), numbers, return_dtype=pl.Int64()
    )
    return (
        measured.join(stops, on=["ticket_id", "metric"], how="left", maintain_order="left")
        .join(ids, on="ticket_id", how="left", maintain_order="left")
        .join(sides, on="assignment_group", how="left", maintain_order="left")
        .select(
            pl.lit(run.engagement_id, pl.Int64()).alias("engagement"),
            pl.lit(run.pk, pl.Int64()).alias("run"),
            "ticket",
            pl.col("ticket_id").alias("ticket_number"),
            "metric",
            "priority",
            pl.col("assignment_group").fill_null(""),
            pl.col("side").fill_null(UNMAPPED),
            month.alias("month"),
            version.alias("policy_version"),
            "elapsed_seconds",
            "target_seconds",
            "met",
        )
    )


def _aggregate_rows(run: SlaRun, level: str, table: pl.DataFrame) -> list[SlaAggregate]:
    return [
        SlaAggregate(
            engagement_id=run.engagement_id,
            run_id=run.pk,
            level=level,
            month=row["month"],
            metric=row["metric"],
            priority=row["priority"],
            assignment_group=row.get("assignment_group") or "",
            side=row.get("side") or "",
            count=row["count"],
            met=row["met"],
            goal=_share(row["goal"]),
            median_seconds=row["median_seconds"],
            p90_seconds=row["p90_seconds"],
        )
        for row in table.iter_rows(named=True)
    ]


def _credit_rows(run: SlaRun, table: pl.DataFrame, numbers: list[int]) -> list[ServiceCredit]:
    return [
        ServiceCredit(
            engagement_id=run.engagement_id,
            run_id=run.pk,
            month=row["month"],
            metric=row["metric"],
            priority=row["priority"],
            policy_version=numbers[row[engine.POLICY_VERSION]],
            count=row["count"],
            met=row["met"],
            goal=_share(row["goal"]),
            missed=row["missed"],
            allocation_percent=row["allocation_percent"],
            currency=row["currency"],
            credit=row["credit"],
            capped=row["capped"],
            earn_back_until=row["earn_back_until"],
            earned_back=row["earned_back"],
            due=row["due"],
        )
        for row in table.iter_rows(named=True)
    ]


def _share(goal: float | None) -> Decimal | None:
    """A goal as written in the policy (0.95 -> Decimal("0.950000")), never a binary float."""
    if goal is None:
        return None
    return Decimal(repr(goal)).quantize(Decimal("0.000001"))


# Storing -------------------------------------------------------------------------------------


#: The measurement columns, in the order the INSERT lists them (the model's field names).
MEASUREMENT_FIELDS = [
    "engagement",
    "run",
    "ticket",
    "ticket_number",
    "metric",
    "priority",
    "assignment_group",
    "side",
    "month",
    "policy_version",
    "elapsed_seconds",
    "target_seconds",
    "met",
]


def _store(run: SlaRun, results: _Results, report: Report) -> None:
    rows = results.measurements
    total = rows.height

    def stored(done: int) -> None:
        report(60 + 35 * done // max(total, 1), f"{done:,} of {total:,} measurements stored")

    if connection.vendor == "postgresql":
        _copy_measurements(rows, stored)
    else:
        _insert_measurements(rows, stored)
    report(96, "Storing aggregates and credits")
    SlaAggregate.objects.bulk_create(results.aggregates, batch_size=BATCH_SIZE)
    ServiceCredit.objects.bulk_create(results.credits, batch_size=BATCH_SIZE)


def _columns() -> tuple[str, list[str]]:
    q = connection.ops.quote_name
    meta = SlaMeasurement._meta
    return q(meta.db_table), [q(meta.get_field(name).column) for name in MEASUREMENT_FIELDS]


def _insert_measurements(rows: pl.DataFrame, stored: Callable[[int], None]) -> None:
    """A prepared INSERT run with ``executemany`` per batch: no model instance per row."""
    table, columns = _columns()
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    done = 0
    with connection.cursor() as cursor:
        for chunk in rows.select(MEASUREMENT_FIELDS).iter_slices(BATCH_SIZE):
            cursor.executemany(sql, list(chunk.iter_rows()))
            done += chunk.height
            stored(done)


#: Rows per COPY on PostgreSQL: one chunk's CSV stays a few megabytes.
COPY_CHUNK = 50_000


def _copy_measurements(rows: pl.DataFrame, stored: Callable[[int], None]) -> None:
    """COPY straight into the measurement table (plain inserts: no staging table needed)."""
    table, columns = _columns()
    done = 0
    with connection.cursor() as cursor:
        for chunk in rows.select(MEASUREMENT_FIELDS).iter_slices(COPY_CHUNK):
            data = chunk.write_csv(include_header=False, quote_style="non_numeric")
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
            with cursor.copy(statement) as copy:
                copy.write(data.encode())
            done += chunk.height
            stored(done)
