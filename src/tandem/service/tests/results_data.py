"""A small SLA run with known numbers, shared by the results tests (pages, exports, API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from tandem.core.models import Engagement
from tandem.service.choices import AggregateLevel, MeasuredSide, Metric
from tandem.service.models import ServiceCredit, SlaAggregate, SlaMeasurement, SlaRun
from tandem.service.tests.factories import (
    ServiceCreditFactory,
    SlaAggregateFactory,
    SlaMeasurementFactory,
    SlaRunFactory,
    TicketFactory,
)

MARCH = date(2025, 3, 1)
FEBRUARY = date(2025, 2, 1)
P1_TARGET = 14_400  # 4 h


@dataclass
class Sla:
    run: SlaRun
    p1_march: SlaAggregate
    p3_march: SlaAggregate
    p1_february: SlaAggregate
    credit: ServiceCredit
    zero_credit: ServiceCredit
    open_breach: SlaMeasurement
    critical: SlaMeasurement
    warning: SlaMeasurement


def _clock(run: SlaRun, number: str, **fields: object) -> SlaMeasurement:
    ticket = TicketFactory(engagement=run.engagement, ticket_id=number, priority="P1")
    values = {
        "metric": Metric.RESOLUTION,
        "priority": "P1",
        "month": MARCH,
        "target_seconds": P1_TARGET,
        "elapsed_seconds": 3_600,
        "met": True,
        "assignment_group": "Service Desk",
        "side": MeasuredSide.CLIENT,
    }
    values.update(fields)
    return SlaMeasurementFactory(run=run, ticket=ticket, **values)


def build_sla(engagement: Engagement) -> Sla:
    """March 2025, P1 resolution: the client team met 3 of 4, the vendor 1 of 4 (8 clocks,
    50 % against a 95 % goal: below goal). P3: 3 client clocks and 1 of an unmapped group, all
    met. February: 2 P1 client clocks met. Open P1 clocks: one past target (a breach), one at
    90.3 % and one at 76.4 % of target (at risk), one at 34.7 % (not at risk)."""
    run = SlaRunFactory(
        engagement=engagement,
        as_of=datetime(2025, 4, 10, 12, tzinfo=UTC),
        started_at=datetime(2025, 4, 10, 12, tzinfo=UTC),
        finished_at=datetime(2025, 4, 10, 12, 1, tzinfo=UTC),
        tickets_measured=18,
    )
    for index, met in enumerate([True, True, True, False]):
        elapsed = 3_600 if met else 20_000
        _clock(run, f"INC-C{index}", met=met, elapsed_seconds=elapsed)
    for index, met in enumerate([True, False, False, False]):
        elapsed = 3_600 if met else 18_000 + index
        _clock(
            run,
            f"INC-V{index}",
            met=met,
            elapsed_seconds=elapsed,
            side=MeasuredSide.VENDOR,
            assignment_group="Acme Desk",
        )
    for index in range(3):
        _clock(
            run, f"INC-P3-{index}", priority="P3", target_seconds=259_200, elapsed_seconds=18_000
        )
    _clock(
        run,
        "INC-UNMAPPED",
        priority="P3",
        target_seconds=259_200,
        elapsed_seconds=7_200,
        side=MeasuredSide.UNMAPPED,
        assignment_group='=HYPERLINK("x")',
    )
    for index in range(2):
        _clock(run, f"INC-FEB-{index}", month=FEBRUARY)
    open_breach = _clock(run, "INC-OPEN-LATE", month=None, met=False, elapsed_seconds=20_000)
    critical = _clock(run, "INC-OPEN-90", month=None, elapsed_seconds=13_000)
    warning = _clock(run, "INC-OPEN-75", month=None, elapsed_seconds=11_000)
    _clock(run, "INC-OPEN-FINE", month=None, elapsed_seconds=5_000)

    def aggregate(**fields: object) -> SlaAggregate:
        return SlaAggregateFactory(run=run, metric=Metric.RESOLUTION, **fields)

    p1_march = aggregate(priority="P1", count=8, met=4, goal=Decimal("0.95"))
    p3_march = aggregate(priority="P3", count=4, met=4, goal=Decimal("0.9"))
    p1_february = aggregate(priority="P1", month=FEBRUARY, count=2, met=2, goal=Decimal("0.95"))
    # The side rows as a run stores them (nearest-rank medians of the clocks above).
    for side, met, median in (("client", 3, 3_600), ("vendor", 1, 18_001)):
        side_row = {"side": side, "priority": "P1", "count": 4, "met": met}
        aggregate(level=AggregateLevel.SIDE, median_seconds=median, **side_row)
    p3 = {"level": AggregateLevel.SIDE, "priority": "P3", "count": 3, "met": 3}
    aggregate(side="client", median_seconds=18_000, **p3)
    aggregate(level=AggregateLevel.SIDE, side="unmapped", priority="P3", count=1, met=1)
    aggregate(
        level=AggregateLevel.GROUP,
        side="unmapped",
        assignment_group='=HYPERLINK("x")',
        priority="P3",
        count=1,
        met=1,
        median_seconds=7_200,
    )
    february = {"level": AggregateLevel.SIDE, "month": FEBRUARY, "count": 2, "met": 2}
    aggregate(side="client", priority="P1", median_seconds=3_600, **february)
    credit = ServiceCreditFactory(
        run=run,
        priority="P1",
        count=8,
        met=4,
        credit=Decimal("1500.00"),
        capped=Decimal("1500.00"),
        due=Decimal("1500.00"),
    )
    zero_credit = ServiceCreditFactory(
        run=run,
        priority="P3",
        count=4,
        met=4,
        goal=Decimal("0.9"),
        missed=False,
        allocation_percent=Decimal("10"),
        credit=Decimal("0.00"),
        capped=Decimal("0.00"),
        due=Decimal("0.00"),
    )
    return Sla(
        run=run,
        p1_march=p1_march,
        p3_march=p3_march,
        p1_february=p1_february,
        credit=credit,
        zero_credit=zero_credit,
        open_breach=open_breach,
        critical=critical,
        warning=warning,
    )
