"""The SLA run service: create, execute (two policy versions, holds, open clocks), counts,
what is stored, all-or-nothing, the audit trail, and the background task."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from tandem.core.choices import AuditAction, ProgressState
from tandem.core.models import ChangeLog, Progress
from tandem.core.services import NotAllowed
from tandem.core.testing.factories import EngagementFactory
from tandem.service import sla_runs
from tandem.service.choices import AggregateLevel, GroupSide, RunStatus
from tandem.service.models import ServiceCredit, SlaAggregate, SlaMeasurement, SlaRun
from tandem.service.tests.factories import (
    POLICY_TOML,
    AssignmentGroupSideFactory,
    SlaPolicyFactory,
    SlaRunFactory,
    TicketFactory,
    TicketHoldFactory,
)

pytestmark = pytest.mark.django_db

#: Version 2, from March 2025: P1 resolution tightened to 2 h, P3 to 24 h.
POLICY_V2 = """\
[calendars.always]
timezone = "America/Chicago"
weekly = "24x7"

[credits]
monthly_fee = "50000.00"
currency = "USD"
at_risk_percent = "10"

[[targets]]
priority = "P1"
metric = "response"
calendar = "always"
within = "15m"
pause_on_hold = false
goal = 0.95
credit_allocation_percent = "20"

[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "2h"
pause_on_hold = true
goal = 0.95
credit_allocation_percent = "30"

[[targets]]
priority = "P3"
metric = "resolution"
calendar = "always"
within = "24h"
pause_on_hold = true
goal = 0.9
"""

AS_OF = datetime(2025, 3, 11, 8, 0, tzinfo=UTC)


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


@pytest.fixture
def data(world):
    e1 = world.e1
    v1 = SlaPolicyFactory(
        engagement=e1, version=1, effective_from=date(2025, 1, 1), source=POLICY_TOML
    )
    v2 = SlaPolicyFactory(
        engagement=e1, version=2, effective_from=date(2025, 3, 1), source=POLICY_V2
    )
    AssignmentGroupSideFactory(
        engagement=e1, assignment_group="Acme Desk", side=GroupSide.VENDOR, vendor=world.acme
    )
    opened = at("2025-02-10", 14)
    tickets = {
        # Before v1 took effect: not measured.
        "early": TicketFactory(
            engagement=e1,
            ticket_id="T0",
            opened_at=at("2024-12-15", 14),
            responded_at=None,
            resolved_at=at("2024-12-16", 14),
        ),
        # v1: response 10 min (met), resolution 5 h less a 1 h hold = 4 h (met, exactly).
        "p1_feb": TicketFactory(
            engagement=e1,
            ticket_id="T1",
            priority="P1",
            opened_at=opened,
            responded_at=opened + timedelta(minutes=10),
            resolved_at=opened + timedelta(hours=5),
        ),
        # v2: response 20 min (missed), resolution 3 h against 2 h (missed).
        "p1_mar": TicketFactory(
            engagement=e1,
            ticket_id="T2",
            priority="P1",
            opened_at=at("2025-03-05", 14),
            responded_at=at("2025-03-05", 14, 20),
            resolved_at=at("2025-03-05", 17),
        ),
        # v2, open at as_of: 18 h of 24 h used (75 %): at risk.
        "p3_open": TicketFactory(
            engagement=e1,
            ticket_id="T3",
            priority="P3",
            opened_at=at("2025-03-10", 14),
            responded_at=None,
            resolved_at=None,
        ),
        # No P2 target: not measured.
        "p2": TicketFactory(
            engagement=e1, ticket_id="T4", priority="P2", opened_at=at("2025-03-02", 14)
        ),
        # v1, the vendor's group: met.
        "p3_vendor": TicketFactory(
            engagement=e1,
            ticket_id="T5",
            priority="P3",
            assignment_group="Acme Desk",
            opened_at=at("2025-02-20", 14),
            resolved_at=at("2025-02-21", 14),
        ),
    }
    TicketHoldFactory(
        ticket=tickets["p1_feb"], start=opened + timedelta(hours=1), end=opened + timedelta(hours=2)
    )
    return {"v1": v1, "v2": v2, **tickets}


def run_history(run: SlaRun) -> list[ChangeLog]:
    return list(
        ChangeLog.objects.filter(
            content_type=ContentType.objects.get_for_model(SlaRun), object_id=str(run.pk)
        ).order_by("pk")
    )


def test_create_run_is_queued_in_the_engagements_zone(world, data) -> None:
    run = sla_runs.create_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    assert run.status == RunStatus.QUEUED
    assert run.as_of == AS_OF
    assert run.time_zone == "America/Chicago"
    assert run.started_by == world.it_lead
    [record] = run_history(run)
    assert record.action == AuditAction.CREATE


def test_create_run_defaults_as_of_to_now_in_whole_seconds(world, data) -> None:
    # A ticket opened a minute ago: a live feed, measured as of now (tickets_as_of covers
    # the historical default).
    TicketFactory(
        engagement=world.e1,
        opened_at=datetime.now(UTC) - timedelta(minutes=1),
        responded_at=None,
        resolved_at=None,
        closed_at=None,
    )
    run = sla_runs.create_run(engagement=world.e1, user=None)
    assert run.as_of.microsecond == 0
    assert abs((run.as_of - datetime.now(UTC)).total_seconds()) < 5
    assert run.as_of_basis == "now"


def test_create_run_refusals(world, data) -> None:
    empty = EngagementFactory()
    with pytest.raises(sla_runs.RunRefused, match="no SLA policy version"):
        sla_runs.create_run(engagement=empty, user=None)
    SlaPolicyFactory(engagement=empty)
    with pytest.raises(sla_runs.RunRefused, match="no tickets"):
        sla_runs.create_run(engagement=empty, user=None)
    with pytest.raises(NotAllowed):
        sla_runs.create_run(engagement=world.e1, user=world.observer)
    with pytest.raises(sla_runs.RunRefused, match="naive"):
        sla_runs.create_run(engagement=world.e1, user=None, as_of=datetime(2025, 3, 1))
    queued = sla_runs.create_run(engagement=world.e1, user=None)
    with pytest.raises(sla_runs.RunRefused, match=f"Run #{queued.number} .* is queued"):
        sla_runs.create_run(engagement=world.e1, user=None)
    assert issubclass(sla_runs.RunRefused, ValueError)


def test_execute_run_measures_under_each_version_and_stores_everything(world, data) -> None:
    run = sla_runs.create_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    reports: list[tuple[int, str]] = []
    run = sla_runs.execute_run(run, report=lambda p, m: reports.append((p, m)))

    assert run.status == RunStatus.DONE, run.error
    assert run.finished_at is not None and run.finished_at >= run.started_at
    assert (run.tickets_measured, run.tickets_not_measured) == (4, 2)
    assert run.measurements_count == 6
    assert (run.breaches_count, run.at_risk_count) == (2, 1)
    assert set(run.policies.all()) == {data["v1"], data["v2"]}
    assert data["v1"].is_frozen and data["v2"].is_frozen
    percents = [p for p, _ in reports]
    assert percents == sorted(percents) and percents[-1] == 100

    rows = {
        (m.ticket_number, m.metric): m
        for m in SlaMeasurement.objects.filter(run=run).select_related("ticket")
    }
    assert set(rows) == {
        ("T1", "response"),
        ("T1", "resolution"),
        ("T2", "response"),
        ("T2", "resolution"),
        ("T3", "resolution"),
        ("T5", "resolution"),
    }
    feb = rows["T1", "resolution"]
    assert (feb.elapsed_seconds, feb.target_seconds, feb.met) == (4 * 3600, 4 * 3600, True)
    assert (feb.policy_version, feb.month, feb.side) == (1, date(2025, 2, 1), "unmapped")
    assert feb.ticket == data["p1_feb"] and feb.engagement_id == world.e1.pk
    mar = rows["T2", "resolution"]
    assert (mar.target_seconds, mar.met, mar.policy_version) == (2 * 3600, False, 2)
    assert rows["T2", "response"].met is False
    still_open = rows["T3", "resolution"]
    assert still_open.month is None and still_open.elapsed_seconds == 18 * 3600
    assert still_open.met is True
    vendor = rows["T5", "resolution"]
    assert (vendor.side, vendor.assignment_group) == ("vendor", "Acme Desk")
    assert rows["T1", "response"].assignment_group == "Service Desk"

    aggregates = SlaAggregate.objects.filter(run=run)
    assert {a.level for a in aggregates} == set(AggregateLevel.values)
    march_p1 = aggregates.get(
        level=AggregateLevel.PRIORITY, month=date(2025, 3, 1), metric="resolution", priority="P1"
    )
    assert (march_p1.count, march_p1.met, march_p1.goal) == (1, 0, Decimal("0.95"))
    assert march_p1.side == "" and march_p1.assignment_group == ""
    feb_vendor = aggregates.get(level=AggregateLevel.SIDE, month=date(2025, 2, 1), side="vendor")
    assert (feb_vendor.priority, feb_vendor.count, feb_vendor.goal) == ("P3", 1, Decimal("0.9"))
    group = aggregates.get(level=AggregateLevel.GROUP, assignment_group="Acme Desk")
    assert group.side == "vendor"
    # Totals add up across levels.
    for level in AggregateLevel.values:
        assert sum(a.count for a in aggregates.filter(level=level)) == 5  # stopped clocks

    credits = {(c.month, c.metric, c.priority): c for c in ServiceCredit.objects.filter(run=run)}
    march_resolution = credits[date(2025, 3, 1), "resolution", "P1"]
    assert march_resolution.missed and march_resolution.policy_version == 2
    assert march_resolution.due == Decimal("1500.00") and march_resolution.currency == "USD"
    assert credits[date(2025, 3, 1), "response", "P1"].due == Decimal("1000.00")
    feb_credit = credits[date(2025, 2, 1), "resolution", "P1"]
    assert not feb_credit.missed and feb_credit.due == 0 and feb_credit.policy_version == 1


def test_execute_run_writes_one_audit_record_when_it_ends(world, data) -> None:
    run = sla_runs.create_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    run = sla_runs.execute_run(run)
    created, ended = run_history(run)
    assert (created.action, ended.action) == (AuditAction.CREATE, AuditAction.UPDATE)
    assert ended.prechange_data["status"] == "running"
    assert ended.postchange_data["status"] == "done"
    assert ended.postchange_data["breaches_count"] == 2
    assert "6 clocks" in ended.message and "2 breaches" in ended.message


def test_a_run_is_executed_once(world, data) -> None:
    run = sla_runs.execute_run(sla_runs.create_run(engagement=world.e1, user=None, as_of=AS_OF))
    with pytest.raises(sla_runs.RunRefused, match="not queued"):
        sla_runs.execute_run(run)


def test_a_failure_stores_nothing_and_says_why(world, data, monkeypatch) -> None:
    run = sla_runs.create_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # Measurements are written by then: the failure must take them back.
    monkeypatch.setattr(ServiceCredit.objects, "bulk_create", broken)
    run = sla_runs.execute_run(run)
    assert run.status == RunStatus.FAILED
    assert run.error == "RuntimeError: disk full"
    assert run.finished_at is not None
    assert not SlaMeasurement.objects.filter(run=run).exists()
    assert not SlaAggregate.objects.filter(run=run).exists()
    assert not run.policies.exists()
    assert not data["v1"].is_frozen
    assert run.measurements_count == 0
    ended = run_history(run)[-1]
    assert ended.postchange_data["status"] == "failed" and "disk full" in ended.message
    assert SlaRun.latest_for(world.e1.pk) is None


def test_a_broken_policy_fails_the_run_with_its_key(world, data) -> None:
    run = sla_runs.create_run(engagement=world.e1, user=None, as_of=AS_OF)
    # Written around the validators, as an old row might be.
    type(data["v2"]).objects.filter(pk=data["v2"].pk).update(
        source=POLICY_V2.replace('calendar = "always"', 'calendar = "busines"', 1)
    )
    run = sla_runs.execute_run(run)
    assert run.status == RunStatus.FAILED
    assert "Policy version 2: targets[0].calendar" in run.error


def test_only_versions_in_use_are_frozen(world, data) -> None:
    future = SlaPolicyFactory(engagement=world.e1, version=3, effective_from=date(2026, 1, 1))
    run = sla_runs.execute_run(sla_runs.create_run(engagement=world.e1, user=None, as_of=AS_OF))
    assert run.status == RunStatus.DONE
    assert not future.is_frozen
    assert data["v2"].is_frozen


def test_start_run_queues_the_task_and_links_its_progress(world, data) -> None:
    run, progress = sla_runs.start_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    progress.refresh_from_db()
    assert progress.state == ProgressState.SUCCEEDED, progress.error
    assert progress.result["run_id"] == run.pk
    assert progress.engagement == world.e1 and not progress.owner_only
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.progress_id == progress.pk
    assert SlaRun.latest_for(world.e1.pk) == run


def test_a_failed_task_shows_the_reason_on_the_bar(world, data, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ServiceCredit.objects, "bulk_create", broken)
    run, _ = sla_runs.start_run(engagement=world.e1, user=world.it_lead, as_of=AS_OF)
    assert run.status == RunStatus.FAILED
    progress = Progress.objects.get(pk=run.progress_id)
    assert progress.state == ProgressState.FAILED
    assert "Nothing was stored" in progress.error and "disk full" in progress.error


def test_summary_of_each_state(world) -> None:
    run = SlaRunFactory(
        engagement=world.e1,
        tickets_measured=1234,
        measurements_count=2400,
        breaches_count=37,
        at_risk_count=5,
        tickets_not_measured=3,
    )
    assert sla_runs.summary(run) == (
        "measured 1,234 tickets (2,400 clocks): 37 breaches, 5 at risk; 3 tickets not measured"
    )
    run.status = RunStatus.QUEUED
    assert sla_runs.summary(run) == "queued"


def test_the_command_runs_in_the_foreground_and_refuses_clearly(world, data) -> None:
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command(
        "run_sla",
        "--engagement",
        str(world.e1.pk),
        "--as-of",
        "2025-03-11T03:00",  # Chicago (CDT): 08:00 UTC
        "--as",
        world.it_lead.email,
        stdout=out,
    )
    run = SlaRun.objects.get(engagement=world.e1)
    assert (run.status, run.as_of, run.started_by) == (RunStatus.DONE, AS_OF, world.it_lead)
    assert "[100%]" in out.getvalue() and "2 breaches, 1 at risk" in out.getvalue()
    # Run as a worker runs it: a progress bar (hence a heartbeat and the reaper) of its own.
    from tandem.service.tasks_sla import SLA_RUN_KIND, run_sla

    progress = run.progress
    assert progress is not None and progress.state == ProgressState.SUCCEEDED
    assert (progress.kind, progress.owner, progress.engagement) == (
        SLA_RUN_KIND,
        world.it_lead,
        world.e1,
    )
    assert progress.owner_only is False and progress.task_name == run_sla.module_path
    assert progress.arguments == {"run_id": run.pk} and progress.worker
    assert progress.result["run_id"] == run.pk
    ended = ChangeLog.objects.filter(
        content_type=ContentType.objects.get_for_model(run), object_id=str(run.pk)
    ).order_by("pk")
    assert [(c.source, c.user) for c in ended] == [("command", world.it_lead)] * 2
    with pytest.raises(CommandError, match="may not start SLA runs"):
        call_command("run_sla", "--engagement", str(world.e1.pk), "--as", world.observer.email)
    with pytest.raises(CommandError, match="no engagement"):
        call_command("run_sla", "--engagement", "999999")
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("run_sla", "--engagement", str(world.e1.pk), "--as-of", "soon")


def test_parity_comes_from_what_the_run_stored_as_from_its_clocks(world, data) -> None:
    """Months from the side-level aggregates, the period from ``side_totals``: the numbers
    comparing every stopped clock gives (what the page read before it kept them)."""
    from tandem.analytics import parity as engine
    from tandem.service import results

    run = sla_runs.execute_run(sla_runs.create_run(engagement=world.e1, user=None, as_of=AS_OF))
    assert run.side_totals
    report = results.parity_report(run)
    clocks = results.parity_clocks(run)
    assert report.months == results._with_words(engine.parity(clocks).to_dicts())
    assert report.period == results._with_words(engine.parity_period(clocks).to_dicts())
    run.side_totals = []  # a run stored before side totals: the period from its clocks
    assert results.parity_report(run).period == report.period
