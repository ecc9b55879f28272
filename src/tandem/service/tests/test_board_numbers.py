"""Numbers a board can read (issue 12, point 7): thousands separators on the pages (not in the
CSV), times in the engagement's zone, runs numbered per engagement, "Run now" on an
historical export measured as of its last event, earn-back explained, KPI cards that do not
headline thin months, and the headline cards of the engagement home and the home page."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tandem.core.testing.factories import EngagementFactory
from tandem.service import headlines, results, sla_runs
from tandem.service.choices import AggregateLevel, AsOfBasis, Metric
from tandem.service.models import SlaRun
from tandem.service.tests.factories import (
    POLICY_TOML,
    ServiceCreditFactory,
    SlaAggregateFactory,
    SlaPolicyFactory,
    SlaRunFactory,
    TicketFactory,
    TicketHoldFactory,
)
from tandem.service.tests.results_data import build_sla

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def sla(world):
    return build_sla(world.e1)


def _historical(engagement, *, tickets: int = 2) -> datetime:
    """Tickets of March 2019 (a policy in force), the last event a hold's end; returns it."""
    SlaPolicyFactory(engagement=engagement, effective_from=date(2019, 1, 1))
    opened = datetime(2019, 3, 4, 15, tzinfo=UTC)
    ticket = None
    for n in range(tickets):
        ticket = TicketFactory(
            engagement=engagement,
            opened_at=opened + timedelta(days=n),
            responded_at=opened + timedelta(days=n, minutes=10),
            resolved_at=opened + timedelta(days=n, hours=3),
        )
    open_ticket = TicketFactory(
        engagement=engagement,
        opened_at=datetime(2019, 3, 30, 9, tzinfo=UTC),
        responded_at=None,
        resolved_at=None,
        closed_at=None,
    )
    assert ticket is not None
    last = datetime(2019, 3, 31, 22, 2, tzinfo=UTC)
    TicketHoldFactory(
        ticket=open_ticket,
        engagement=engagement,
        start=datetime(2019, 3, 30, 10, tzinfo=UTC),
        end=last,
    )
    return last


# 3. Runs numbered per engagement --------------------------------------------------------------


def test_runs_are_numbered_per_engagement(world) -> None:
    _historical(world.e1)
    _historical(world.e2)
    first = sla_runs.create_run(engagement=world.e1, user=None)
    sla_runs.fail_run(first, "stopped by the test")
    second = sla_runs.create_run(engagement=world.e1, user=None)
    other = sla_runs.create_run(engagement=world.e2, user=None)
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert second.label == str(second) == "Run #2"


def test_a_number_is_never_given_twice_in_an_engagement(world) -> None:
    SlaRunFactory(engagement=world.e1, number=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaRunFactory(engagement=world.e1, number=1)
    assert SlaRunFactory(engagement=world.e2, number=1).number == 1


def test_a_run_that_lost_the_race_for_its_number_takes_the_next(world, monkeypatch) -> None:
    """Another process took number 1 between our read and our insert: the unique constraint
    refuses it and the run retries with a fresh maximum."""
    _historical(world.e1)
    real = sla_runs.next_number
    calls = []

    def racing(engagement):
        calls.append(engagement.pk)
        if len(calls) == 1:
            SlaRunFactory(engagement=engagement, number=1, status="failed")
            return 1  # what we read before the other run was inserted
        return real(engagement)

    monkeypatch.setattr(sla_runs, "next_number", racing)
    run = sla_runs.create_run(engagement=world.e1, user=None)
    assert run.number == 2 and len(calls) == 2
    assert SlaRun.objects.filter(engagement=world.e1).count() == 2


def test_the_migration_numbers_existing_runs_in_creation_order(world) -> None:
    import importlib

    migration = importlib.import_module("tandem.service.migrations.0006_slarun_number")
    runs = [SlaRunFactory(engagement=e) for e in (world.e1, world.e2, world.e1, world.e1)]
    # As if numbered otherwise (high numbers: no clash while renumbering).
    for run in runs:
        SlaRun.objects.filter(pk=run.pk).update(number=100 + run.pk)
    migration.number_runs(apps, None)
    numbers = [SlaRun.objects.get(pk=run.pk).number for run in runs]
    assert numbers == [1, 1, 2, 3]


def test_pages_and_api_name_runs_by_their_number(world, sla, client_for) -> None:
    client = client_for(world.it_lead)
    SlaRun.objects.filter(pk=sla.run.pk).update(number=3)
    detail = _text(client.get(sla.run.get_absolute_url()))
    assert "SLA Run #3" in detail
    dashboard = _text(client.get(reverse("service:sla_dashboard", args=[world.e1.pk])))
    assert ">Run #3</a>" in dashboard
    runs = _text(client.get(reverse("service:slarun_list", args=[world.e1.pk])))
    assert "Run #3" in runs
    api = client.get(reverse("service-api:slarun-detail", args=[sla.run.pk])).json()
    assert api["number"] == 3 and api["id"] == sla.run.pk
    assert api["as_of_basis"] == "given"


# 4. "Run now" on an historical export ---------------------------------------------------------


def test_an_historical_export_is_measured_as_of_its_last_event(world) -> None:
    last = _historical(world.e1)
    assert sla_runs.last_event(world.e1) == last
    as_of, basis = sla_runs.default_as_of(world.e1)
    assert (as_of, basis) == (last, AsOfBasis.LAST_EVENT)
    run = sla_runs.execute_run(sla_runs.create_run(engagement=world.e1, user=None))
    assert run.status == "done", run.error
    assert (run.as_of, run.as_of_basis) == (last, AsOfBasis.LAST_EVENT)
    # The open ticket's clock runs for a day and a half, not seven years.
    longest = run.measurements.filter(month__isnull=True).order_by("-elapsed_seconds").first()
    assert longest is not None and longest.elapsed_seconds <= 2 * 24 * 3600


def test_a_live_feed_is_measured_as_of_now(world) -> None:
    _historical(world.e1)
    now = datetime.now(UTC)
    TicketFactory(
        engagement=world.e1,
        opened_at=now - timedelta(hours=2),
        responded_at=None,
        resolved_at=None,
        closed_at=None,
    )
    as_of, basis = sla_runs.default_as_of(world.e1, now=now)
    assert (as_of, basis) == (now, AsOfBasis.NOW)
    given = sla_runs.create_run(engagement=world.e1, user=None, as_of=now - timedelta(days=3))
    assert given.as_of_basis == AsOfBasis.GIVEN


def test_run_now_without_a_time_says_as_of_what_and_why(world, client_for) -> None:
    _historical(world.e1)
    client = client_for(world.it_lead)
    runs = reverse("service:slarun_list", args=[world.e1.pk])
    page = _text(client.get(runs))
    # The form says what an empty "As of" means, in the engagement's zone (CDT).
    assert "Empty: as of the last imported event, " in page and "2019-03-31 17:02" in page
    response = client.post(reverse("service:slarun_start", args=[world.e1.pk]), {"as_of": ""})
    run = SlaRun.objects.get(engagement=world.e1)
    assert response.status_code == 302
    assert run.as_of_basis == AsOfBasis.LAST_EVENT
    detail = _text(client.get(run.get_absolute_url()))
    assert "as of the last imported event, 2019-03-31 17:02" in detail
    assert "Times in America/Chicago" in detail


def test_the_api_starts_a_run_as_of_the_last_event_and_says_so(world, api_for) -> None:
    last = _historical(world.e1)
    response = api_for(world.it_lead).post(
        reverse("service-api:slarun-list"), {"engagement": world.e1.pk}
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["number"], body["as_of_basis"]) == (1, "last_event")
    assert datetime.fromisoformat(body["as_of"]) == last


def test_a_retry_keeps_the_reason_of_the_failed_run(world) -> None:
    from tandem.service.tasks_sla import run_retry

    _historical(world.e1)
    run, progress = sla_runs.start_run(engagement=world.e1, user=world.it_lead)
    SlaRun.objects.filter(pk=run.pk).update(status="failed")
    url = run_retry(progress, world.it_lead)
    again = SlaRun.objects.exclude(pk=run.pk).get(engagement=world.e1)
    assert url == again.get_absolute_url()
    assert (again.as_of, again.as_of_basis, again.number) == (run.as_of, "last_event", 2)


# 1 and 2. Thousands separators, one time zone -------------------------------------------------


def test_pages_separate_thousands_and_the_csv_does_not(world, sla, client_for) -> None:
    client = client_for(world.it_lead)
    SlaRun.objects.filter(pk=sla.run.pk).update(
        tickets_measured=123_456, measurements_count=246_912, breaches_count=12_345
    )
    detail = _text(client.get(sla.run.get_absolute_url()))
    assert "<dd>123,456</dd>" in detail and "<dd>246,912</dd>" in detail
    assert "<dd>12,345</dd>" in detail
    sla.p1_march.__class__.objects.filter(pk=sla.p1_march.pk).update(count=12_000, met=11_500)
    aggregates = reverse("service:slaaggregate_list", args=[world.e1.pk])
    page = _text(client.get(aggregates + "?level=priority"))
    assert "12,000" in page and "11,500" in page
    csv = client.get(aggregates + "?level=priority&export=csv")
    body = b"".join(csv.streaming_content).decode() if csv.streaming else csv.content.decode()
    assert "12000" in body and "12,000" not in body
    sla.credit.__class__.objects.filter(pk=sla.credit.pk).update(
        credit=Decimal("1234567.50"), capped=Decimal("1234567.50"), due=Decimal("1234567.50")
    )
    credits = _text(client.get(reverse("service:sla_credits", args=[world.e1.pk])))
    assert "<strong>1,234,567.50 USD</strong>" in credits
    lines = _text(client.get(reverse("service:servicecredit_list", args=[world.e1.pk])))
    assert "1,234,567.50" in lines


def test_sla_pages_show_times_in_the_engagements_zone_and_say_so(world, sla, client_for) -> None:
    client = client_for(world.it_lead)
    # The run is as of 2025-04-10 12:00 UTC: 07:00 in Chicago (CDT).
    for name in ("service:sla_dashboard", "service:sla_credits", "service:sla_parity"):
        page = _text(client.get(reverse(name, args=[world.e1.pk])))
        assert "Times in America/Chicago" in page, name
        assert "2025-04-10 07:00" in page and "2025-04-10 12:00" not in page, name
    breaches = _text(client.get(reverse("service:sla_breaches", args=[world.e1.pk])))
    assert "Times in America/Chicago" in breaches and "2025-04-10 07:00" in breaches


# 6. KPI cards and a minimum volume -------------------------------------------------------------


def test_headline_month_skips_thin_months() -> None:
    march, april, may = date(2025, 3, 1), date(2025, 4, 1), date(2025, 5, 1)
    volumes = {march: 40, april: 25, may: 7}
    assert results.headline_month(volumes, minimum=20) == (april, [may])
    assert results.headline_month(volumes, minimum=20, up_to=april) == (april, [])
    assert results.headline_month(volumes, minimum=30) == (march, [may, april])
    assert results.headline_month(volumes, minimum=50) == (None, [may, april, march])
    assert results.headline_month({}, minimum=1) == (None, [])


def test_the_dashboard_headlines_the_latest_month_with_enough_tickets(
    world, sla, client_for
) -> None:
    # February: 30 P1 clocks; March (the run's last month) has 12: not headlined.
    sla.p1_february.__class__.objects.filter(pk=sla.p1_february.pk).update(count=30, met=29)
    page = _text(
        client_for(world.it_lead).get(reverse("service:sla_dashboard", args=[world.e1.pk]))
    )
    assert "Resolution · Feb 2025" in page
    assert "29/30 met" in page
    assert "Mar 2025 not headlined: too few tickets" in page
    assert "Months with fewer than 20 tickets" in page
    assert "8/12 met" not in page  # March's tile is gone (its matrix row stays)


def test_no_month_with_enough_tickets_headlines_nothing(world, sla, client_for) -> None:
    page = _text(
        client_for(world.it_lead).get(reverse("service:sla_dashboard", args=[world.e1.pk]))
    )
    assert "no month with 20 or more tickets yet" in page


# 5. Earn-back explained -------------------------------------------------------------------------


EARN_BACK = POLICY_TOML.replace(
    'credit_allocation_percent = "30"',
    'credit_allocation_percent = "30"\nearn_back_months = 2\nearn_back_goal = 0.97',
)


def _earn_back_run(world, april: tuple[int, int], may: tuple[int, int] | None, earned: bool):
    policy = SlaPolicyFactory(engagement=world.e1, version=1, source=EARN_BACK)
    assert policy.parsed().targets[1].earn_back_months == 2
    run = SlaRunFactory(engagement=world.e1, as_of=datetime(2025, 6, 10, tzinfo=UTC))
    months = [(date(2025, 3, 1), (10, 8)), (date(2025, 4, 1), april)]
    if may is not None:
        months.append((date(2025, 5, 1), may))
    for month, (count, met) in months:
        SlaAggregateFactory(
            run=run, month=month, metric=Metric.RESOLUTION, priority="P1", count=count, met=met
        )
    line = ServiceCreditFactory(
        run=run,
        earn_back_until=date(2025, 5, 1),
        earned_back=earned,
        due=Decimal("0.00") if earned else Decimal("1500.00"),
    )
    return run, line


def test_an_earned_back_credit_says_which_months_met_which_goal(world, client_for) -> None:
    run, line = _earn_back_run(world, april=(50, 49), may=(40, 40), earned=True)
    [note] = results.earn_back_notes(run, [line]).values()
    assert note.earned and [m.reached for m in note.window.window] == [True, True]
    assert note.text == (
        "Earned back: Apr 2025 (98.0 %, 49 of 50) and May 2025 (100.0 %, 40 of 40) each "
        "reached the 97 % earn-back goal, so the 1,500.00 USD credit of March 2025 is waived."
    )
    client = client_for(world.it_lead)
    page = _text(client.get(reverse("service:sla_credits", args=[world.e1.pk])))
    assert note.text in page
    detail = _text(client.get(line.get_absolute_url()))
    assert "<h2>Earn-back</h2>" in detail and note.text in detail


def test_a_credit_not_earned_back_names_the_short_and_the_missing_months(world) -> None:
    run, line = _earn_back_run(world, april=(50, 45), may=None, earned=False)
    [note] = results.earn_back_notes(run, [line]).values()
    assert not note.earned
    assert "Apr 2025 (90.0 %, 45 of 50) fell below the 97 % goal" in note.text
    assert "May 2025 (no stopped clock) had none, which counts as not met" in note.text
    assert note.text.endswith("So the 1,500.00 USD credit of March 2025 stays due.")


def test_earn_back_notes_cost_two_queries(world, django_assert_max_num_queries) -> None:
    run, line = _earn_back_run(world, april=(50, 49), may=(40, 40), earned=True)
    others = [
        ServiceCreditFactory(run=run, month=date(2025, m, 1), earn_back_until=date(2025, m + 2, 1))
        for m in (4, 5)
    ]
    with django_assert_max_num_queries(2):
        notes = results.earn_back_notes(run, [line, *others])
    assert len(notes) == 3


# 7. Headline cards -------------------------------------------------------------------------------


def test_the_engagement_home_headlines_attainment_breaches_and_credits(
    world, sla, client_for
) -> None:
    sla.p1_february.__class__.objects.filter(pk=sla.p1_february.pk).update(count=30, met=29)
    SlaRun.objects.filter(pk=sla.run.pk).update(breaches_count=1_234)
    page = _text(client_for(world.it_lead).get(world.e1.get_absolute_url()))
    assert "Service levels now" in page
    assert "Resolution · Feb 2025" in page and "96.7 %" in page and "29/30 met" in page
    assert ">1,234</a>" in page
    assert "1,500.00 USD" in page
    words = re.sub(r"<[^>]+>", "", page)
    assert "as of the time given, 2025-04-10 07:00" in words  # in Chicago time


def test_no_run_no_card(world, client_for) -> None:
    page = _text(client_for(world.it_lead).get(world.e1.get_absolute_url()))
    assert "Service levels now" not in page


def test_the_home_page_headlines_each_visible_engagement(world, sla, client_for) -> None:
    other = build_sla(world.e2)
    SlaRun.objects.filter(pk=other.run.pk).update(breaches_count=7)
    SlaRun.objects.filter(pk=sla.run.pk).update(breaches_count=5)
    home = reverse("core:home")
    page = _text(client_for(world.it_lead).get(home))
    assert "Service levels now" in page and world.e1.name in page
    assert "Run #1</a>, as of the time given 2025-04-10" in page
    # Only the engagements the person may see, through restrict().
    assert world.e2.name not in page
    # Bolt's vendor lead is in e2 only: its row, never e1's.
    outsider = _text(client_for(world.outsider).get(home))
    assert "Service levels now" in outsider and world.e2.name in outsider
    assert world.e1.name not in outsider


def test_headline_cards_cost_the_same_queries_for_one_engagement_or_six(world) -> None:
    def cost(engagements) -> int:
        with CaptureQueriesContext(connection) as queries:
            card = headlines.home_card(world.admin, engagements)
        assert card is not None and len(card.context["rows"]) == len(engagements)
        return len(queries)

    first = EngagementFactory()
    build_sla(first)
    one = cost([first])
    many = [first]
    for _ in range(5):
        engagement = EngagementFactory()
        build_sla(engagement)
        many.append(engagement)
    assert cost(many) == one <= 5


def test_the_home_page_stays_within_its_query_budget(
    world, sla, client_for, django_assert_max_num_queries
) -> None:
    client = client_for(world.it_lead)
    client.get(reverse("core:home"))  # warm caches (content types, sessions)
    for _ in range(3):
        engagement = EngagementFactory()
        build_sla(engagement)
    with django_assert_max_num_queries(30):
        page = _text(client.get(reverse("core:home")))
    assert "Service levels now" in page


def test_aggregate_level_filter_value(world) -> None:
    # The headline reads priority-level rows only: side and group rows never double count.
    run = SlaRunFactory(engagement=world.e1, as_of=datetime(2025, 4, 10, tzinfo=UTC))
    for level in (AggregateLevel.PRIORITY, AggregateLevel.SIDE, AggregateLevel.GROUP):
        SlaAggregateFactory(run=run, level=level, priority="P1", count=25, met=25, side="client")
    [row] = headlines.run_headlines({world.e1.pk: run}).values()
    assert [(m.metric, m.count) for m in row.metrics] == [("resolution", 25)]


def test_list_counts_and_import_counts_separate_thousands(world, client_for) -> None:
    from tandem.service.models import Ticket
    from tandem.service.tests.factories import ImportBatchFactory

    batch = ImportBatchFactory(
        engagement=world.e1, rows_read=12_345, tickets_created=12_000, holds_imported=4_321
    )
    opened = datetime(2025, 3, 3, tzinfo=UTC)
    Ticket.objects.bulk_create(
        Ticket(engagement=world.e1, batch=batch, ticket_id=f"INC{n:05d}", opened_at=opened)
        for n in range(1_001)
    )
    client = client_for(world.it_lead)
    tickets = _text(client.get(reverse("service:ticket_list", args=[world.e1.pk])))
    assert "1,001 results" in tickets
    detail = _text(client.get(batch.get_absolute_url()))
    assert "<dd>12,345</dd>" in detail and "<dd>12,000</dd>" in detail
    assert "<dd>4,321</dd>" in detail


def test_credit_and_aggregate_pages_title_their_numbers_separated(world, client_for) -> None:
    line = ServiceCreditFactory(
        credit=Decimal("12345.00"),
        capped=Decimal("12345.00"),
        due=Decimal("12345.00"),
        run=SlaRunFactory(engagement=world.e1),
    )
    aggregate = SlaAggregateFactory(run=line.run, count=12_000, met=11_000)
    client = client_for(world.it_lead)
    page = _text(client.get(line.get_absolute_url()))
    assert "2025-03 P1 resolution: 12,345.00 USD</h1>" in page
    assert "12345.00" not in page
    page = _text(client.get(aggregate.get_absolute_url()))
    assert "2025-03 P3 resolution: 11,000/12,000</h1>" in page
