"""The demo's Riverside tickets: deterministic, canonical, realistic, and telling the story
(a go-live spike, two bad vendor months with credits, one earned back); the loader is
idempotent."""

from __future__ import annotations

import io
import re
from datetime import date

import polars as pl
import pytest
from django.core.management import call_command

from tandem.analytics.credits import credit_totals
from tandem.analytics.frames import HOLDS, TICKETS
from tandem.analytics.versions import attainment_versions, credits_versions, measure_versions
from tandem.core.demo import load_demo
from tandem.core.models import ChangeLog, Engagement
from tandem.service.choices import GroupSide, RunStatus
from tandem.service.demo import scenario
from tandem.service.demo.load import load_service_demo
from tandem.service.demo.tickets import CLOCKS, generate, policies
from tandem.service.models import (
    AssignmentGroupSide,
    ImportBatch,
    ServiceCredit,
    SlaPolicy,
    SlaRun,
    Ticket,
    TicketHold,
)
from tandem.service.services import checked_frames

SMALL = 3_000
ZONE = scenario.TIME_ZONE
SLIPS = scenario.SLIP_MONTHS


@pytest.fixture(scope="module")
def small():
    return generate(SMALL)


@pytest.fixture(scope="module")
def full():
    """The demo as loaded (150,000 tickets: about a second to generate)."""
    return generate()


@pytest.fixture(scope="module")
def measured(full):
    return measure_versions(
        full.tickets, full.holds, policies(), scenario.AS_OF, timezone=ZONE
    ).measurements


def local_month(column: str = "opened_at") -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(ZONE).dt.month_start().dt.date().alias("month")


def vendor_only(measurements: pl.DataFrame, tickets: pl.DataFrame) -> pl.DataFrame:
    vendor = tickets.filter(pl.col("assignment_group").is_in(scenario.VENDOR_GROUPS))
    return measurements.filter(pl.col("ticket_id").is_in(vendor["ticket_id"].implode()))


# The frames -----------------------------------------------------------------------------


def test_riverside_starts_with_its_tickets() -> None:
    """The engagement's start is fixed to the demo story's first month (not to the day the
    demo is loaded), so the dashboards' months all fall inside the engagement."""
    from tandem.core.demo.data import ENGAGEMENTS

    (riverside,) = [spec for spec in ENGAGEMENTS if spec.key == "riverside"]
    assert riverside.start == scenario.FIRST_MONTH


def test_the_same_seed_gives_the_same_frames(small):
    again = generate(SMALL)
    assert again.tickets.equals(small.tickets)
    assert again.holds.equals(small.holds)
    assert again.clocks.equals(small.clocks)
    other = generate(SMALL, seed=scenario.SEED + 1)
    assert not other.tickets.equals(small.tickets)


def test_the_frames_are_canonical_and_import_as_they_are(small):
    tickets, holds = small.tickets, small.holds
    assert tickets.schema == pl.Schema(TICKETS)
    assert holds.schema == pl.Schema(HOLDS)
    assert small.clocks.schema == pl.Schema(CLOCKS)
    assert tickets.height == SMALL
    checked_frames(tickets, holds, keep_text=False)  # raises when the import would refuse
    ids = tickets["ticket_id"]
    assert ids.n_unique() == SMALL
    assert ids.str.contains(r"^(INC|RITM)\d{7}$").all()
    assert {"INC0100001", "RITM0100001"} <= set(ids)
    assert tickets["opened_at"].is_sorted()
    assert set(tickets["kind"]) == {"incident", "request"}
    assert (tickets.filter(pl.col("kind") == "request")["ticket_id"].str.starts_with("RITM")).all()
    raw = dict(zip(["P1", "P2", "P3", "P4"], scenario.PRIORITY_RAW, strict=True))
    assert (tickets["priority_raw"] == tickets["priority"].replace_strict(raw)).all()
    assert set(tickets["assignment_group"]) == set(scenario.GROUP_NAMES)
    assert tickets["category"].null_count() == 0
    assert tickets["reassignment_count"].min() >= 0 and tickets["reopen_count"].min() >= 0
    # Every instant in whole seconds, inside the window; nothing after the export.
    for column in ("opened_at", "responded_at", "resolved_at", "closed_at"):
        values = tickets[column].drop_nulls()
        assert (values.dt.microsecond() == 0).all(), column
        assert values.max() <= scenario.AS_OF, column
    first = tickets["opened_at"].dt.convert_time_zone(ZONE).min()
    assert first.date() >= scenario.FIRST_MONTH
    ordered = tickets.filter(pl.col("resolved_at").is_not_null())
    assert (ordered["responded_at"] <= ordered["resolved_at"]).all()
    assert (ordered["opened_at"] <= ordered["responded_at"]).all()
    assert (ordered["resolved_at"] <= ordered["closed_at"].fill_null(scenario.AS_OF)).all()


def test_a_few_tickets_are_still_open_at_the_end(small):
    still_open = small.tickets.filter(pl.col("resolved_at").is_null())
    assert 0 < still_open.height < SMALL * 0.02
    assert still_open["closed_at"].null_count() == still_open.height
    # Opened in the last weeks of the window.
    assert still_open.select(local_month())["month"].min() >= date(2026, 9, 1)
    running = small.holds.filter(pl.col("end").is_null())
    assert set(running["ticket_id"]) <= set(still_open["ticket_id"])


def test_the_mix_looks_like_a_hospital_service_desk(full):
    tickets = full.tickets
    share = tickets["priority"].value_counts(normalize=True).sort("priority")
    expected = {"P1": 0.005, "P2": 0.04, "P3": 0.70, "P4": 0.255}
    tolerance = {"P1": 0.0015, "P2": 0.006, "P3": 0.02, "P4": 0.02}
    for priority, proportion in share.iter_rows():
        assert abs(proportion - expected[priority]) <= tolerance[priority], priority
    business = policies()[0][1].calendars["business"]
    holidays = list(business.closed_dates(2025) | business.closed_dates(2026))
    local = pl.col("opened_at").dt.convert_time_zone(ZONE)
    in_hours = (
        (local.dt.weekday() <= 5)
        & local.dt.hour().is_between(7, 18)
        & ~local.dt.date().is_in(holidays)
    )
    hours_share = tickets.select(in_hours.mean()).item()
    assert 0.72 <= hours_share <= 0.88  # mostly business hours, some round the clock
    nights = tickets.filter(~in_hours)["priority"].value_counts(normalize=True)
    assert nights.filter(pl.col("priority") == "P1")["proportion"].item() > 0.005
    vendor_share = tickets["assignment_group"].is_in(scenario.VENDOR_GROUPS).mean()
    assert 0.6 <= vendor_share <= 0.72
    with_holds = full.holds["ticket_id"].n_unique() / tickets.height
    assert 0.28 <= with_holds <= 0.42  # about a third
    per_ticket = full.holds.group_by("ticket_id").len()["len"]
    assert per_ticket.min() == 1 and per_ticket.max() == 3
    # Some holds last over a night or a weekend.
    holds = full.holds.drop_nulls("end")
    overnight = (
        holds["end"].dt.convert_time_zone(ZONE).dt.date()
        > holds["start"].dt.convert_time_zone(ZONE).dt.date()
    )
    assert overnight.mean() > 0.1


def test_the_go_live_month_spikes_mostly_for_northwind_ehr_support(full):
    tickets = full.tickets.with_columns(local_month())
    monthly = tickets.group_by("month").len().sort("month")
    assert monthly.height == scenario.MONTHS
    spike = monthly.filter(pl.col("month") == scenario.GO_LIVE_MONTH)["len"].item()
    median = monthly["len"].median()
    assert spike >= 2 * median
    assert monthly["len"].arg_max() == scenario.month_index(scenario.GO_LIVE_MONTH)
    ehr = tickets.filter(pl.col("assignment_group") == "Northwind EHR Support")
    by_month = ehr.group_by("month").len()
    ehr_spike = by_month.filter(pl.col("month") == scenario.GO_LIVE_MONTH)["len"].item()
    assert ehr_spike >= 5 * by_month["len"].median()
    # Everything takes longer that month: the median P3 resolution clock.
    clocks = full.clocks.join(tickets.select("ticket_id", "month", "priority"), on="ticket_id")
    p3 = (
        clocks.filter(pl.col("priority") == "P3")
        .group_by("month")
        .agg(pl.col("resolution_seconds").median())
    )
    spike_median = p3.filter(pl.col("month") == scenario.GO_LIVE_MONTH)["resolution_seconds"]
    others = p3.filter(pl.col("month") != scenario.GO_LIVE_MONTH)["resolution_seconds"]
    assert spike_median.item() > others.max()


def test_the_engine_measures_exactly_the_business_time_drawn(small):
    measured = measure_versions(small.tickets, small.holds, policies(), timezone=ZONE)
    assert measured.before_first.height == 0
    expected = small.clocks.unpivot(
        index="ticket_id", variable_name="metric", value_name="drawn"
    ).with_columns(pl.col("metric").str.strip_suffix("_seconds"))
    both = measured.measurements.join(expected, on=["ticket_id", "metric"], how="inner")
    assert both.height == measured.measurements.height > 2 * SMALL * 0.95
    assert (both["elapsed_seconds"] == both["drawn"]).all()


# The story ---------------------------------------------------------------------------------


def test_northwind_slips_in_two_months_and_is_within_goal_otherwise(full, measured):
    vendor = attainment_versions(
        vendor_only(measured, full.tickets), full.tickets, policies(), timezone=ZONE
    ).filter(pl.col("metric") == "resolution", pl.col("priority").is_in(["P1", "P2"]))
    below = vendor.filter(pl.col("attainment") < pl.col("goal"))
    assert set(below["month"]) == set(SLIPS)
    for row in below.iter_rows(named=True):
        assert row["attainment"] <= row["goal"] - 0.15, row  # well below, not a near miss
    # The same months sink the whole desk's numbers, which the credits are computed on.
    total = attainment_versions(measured, full.tickets, policies(), timezone=ZONE)
    missed = total.filter(pl.col("attainment") < pl.col("goal"))
    assert set(missed["month"]) == set(SLIPS)
    assert set(missed["priority"]) == {"P1", "P2"}
    assert set(missed["metric"]) == {"resolution"}


def test_credits_fall_due_in_the_slip_months_and_the_first_is_earned_back(full, measured):
    lines = credits_versions(measured, full.tickets, policies(), timezone=ZONE)
    missed = lines.filter(pl.col("missed"))
    assert set(missed["month"]) == set(SLIPS)
    january, july = SLIPS
    first = missed.filter(pl.col("month") == january)
    assert first["earned_back"].all()
    second = missed.filter(pl.col("month") == july)
    p2 = second.filter(pl.col("priority") == "P2").row(0, named=True)
    assert not p2["earned_back"]
    assert p2["earn_back_until"] == date(2026, 9, 1)
    totals = {row["month"]: row for row in credit_totals(lines).iter_rows(named=True)}
    assert totals[january]["credit"] > 0 and totals[january]["due"] == 0
    assert totals[july]["due"] > 0
    assert sum(row["due"] for row in totals.values()) == totals[july]["due"]
    # Why the second is not earned back: August meets the goal, not the earn-back goal.
    august = (
        attainment_versions(measured, full.tickets, policies(), timezone=ZONE)
        .filter(
            pl.col("month") == scenario.SHAKY_MONTH,
            pl.col("priority") == "P2",
            pl.col("metric") == "resolution",
        )
        .row(0, named=True)
    )
    assert august["goal"] <= august["attainment"] < 0.95


def test_the_amendment_tightens_p2_from_may_2026():
    (first, v1), (second, v2) = policies()
    assert first == scenario.FIRST_MONTH and second == date(2026, 5, 1)

    def within(policy, metric):
        return next(
            t.within_seconds for t in policy.targets if (t.priority, t.metric) == ("P2", metric)
        )

    assert within(v2, "resolution") < within(v1, "resolution")
    assert within(v2, "response") < within(v1, "response")
    assert v1.credits == v2.credits
    assert v1.credits is not None and str(v1.credits.monthly_fee) == "185000.00"
    allocated = sum(t.credit_allocation_percent or 0 for t in v1.targets)
    assert 0 < allocated <= 100


# Loading ---------------------------------------------------------------------------------


def counts() -> dict[str, int]:
    models = (AssignmentGroupSide, SlaPolicy, ImportBatch, Ticket, TicketHold, SlaRun)
    return {model.__name__: model.objects.count() for model in models} | {
        "changes": ChangeLog.objects.count()
    }


@pytest.mark.django_db
def test_loading_twice_adds_nothing_and_fills_the_dashboards():
    load_demo()
    lines: list[str] = []
    created = load_service_demo(tickets=SMALL, write=lines.append)
    assert created == len(scenario.GROUPS) + len(scenario.POLICIES) + 2  # + import + run
    assert any("Generating 3,000 demo tickets" in line for line in lines)
    assert any(line.strip().startswith("imported 3,000 tickets") for line in lines)
    engagement = Engagement.objects.get(name__startswith="Riverside")
    assert Ticket.objects.filter(engagement=engagement).count() == SMALL
    batch = ImportBatch.objects.get(engagement=engagement)
    assert batch.file_name.startswith("DEMO ")
    sides = dict(
        AssignmentGroupSide.objects.filter(engagement=engagement).values_list(
            "assignment_group", "side"
        )
    )
    assert sides == {
        name: GroupSide.VENDOR if side == "vendor" else GroupSide.CLIENT
        for name, side, _ in scenario.GROUPS
    }
    vendors = AssignmentGroupSide.objects.filter(engagement=engagement, side=GroupSide.VENDOR)
    assert {row.vendor.name for row in vendors} == {scenario.VENDOR}
    policies_stored = SlaPolicy.objects.filter(engagement=engagement).order_by("version")
    assert [p.effective_from for p in policies_stored] == [date(2025, 5, 1), date(2026, 5, 1)]
    assert all(p.note.startswith("Demo data") for p in policies_stored)
    run = SlaRun.objects.get(engagement=engagement)
    assert run.status == RunStatus.DONE, run.error
    assert run.as_of == scenario.AS_OF
    assert run.started_by.email == "itlead@riverside.example"
    assert ServiceCredit.objects.filter(run=run, missed=True).exists()

    before = counts()
    assert load_service_demo(tickets=SMALL) == 0
    assert counts() == before


@pytest.mark.django_db
def test_the_demo_command_prints_its_progress():
    out = io.StringIO()
    call_command("demo", "--no-serve", "--tickets", "500", stdout=out)
    text = out.getvalue()
    assert re.search(r"Generating 500 demo tickets", text)
    assert "imported 500 tickets" in text
    assert "Measuring Riverside's service levels" in text
    assert Ticket.objects.count() == 500
