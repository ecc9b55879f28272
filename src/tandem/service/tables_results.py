"""django-tables2 tables of what SLA runs stored: measurements (also the breach and at-risk
lists), aggregates and credit lines. Durations render as "4 h 12 min" and export as seconds."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html

from tandem.core.tables import BaseTable, badge
from tandem.core.templatetags.tandem_ui import money, num
from tandem.service.models import ServiceCredit, SlaAggregate, SlaMeasurement
from tandem.service.results import CRITICAL_PERCENT, duration, month_label, percent


class DurationColumn(tables.Column):
    """Business seconds, read as "4 h 12 min" (exact seconds in the tooltip and the export)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", {"td": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        return format_html('<span title="{} s">{}</span>', value, duration(value))

    def value(self, value: Any) -> Any:
        return value


class CountColumn(tables.Column):
    """A count with thousands separators on the page (``|num``), the plain number exported."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", {"td": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        return num(value)

    def value(self, value: Any) -> Any:
        return value


class MoneyColumn(CountColumn):
    """An amount as an invoice prints it (1,500.00, ``|money``); the Decimal exported."""

    def render(self, value: Any) -> str:
        return money(value)


class MonthColumn(tables.Column):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("empty_values", ())
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        return month_label(value)

    def value(self, value: Any) -> str:
        return value.isoformat() if value else ""


def _choice_badge(kind: str, value: str, label: str) -> str:
    return badge(kind, value.lower(), label)


class SlaMeasurementTable(BaseTable):
    ticket_number = tables.Column(verbose_name="Ticket")
    priority = tables.Column()
    metric = tables.Column()
    assignment_group = tables.Column(verbose_name="Group")
    side = tables.Column()
    elapsed_seconds = DurationColumn(verbose_name="Elapsed")
    target_seconds = DurationColumn(verbose_name="Target")
    overrun = tables.Column(
        empty_values=(),
        verbose_name="Overrun / left",
        order_by=("elapsed_seconds",),
        attrs={"td": {"class": "num"}},
    )
    month = MonthColumn(verbose_name="Stopped in")
    met = tables.BooleanColumn()
    details = tables.LinkColumn(
        "service:slameasurement_detail",
        args=[tables.A("pk")],
        text="Explain",
        orderable=False,
        exclude_from_export=True,
    )

    class Meta(BaseTable.Meta):
        model = SlaMeasurement
        fields = (
            "ticket_number",
            "priority",
            "metric",
            "assignment_group",
            "side",
            "elapsed_seconds",
            "target_seconds",
            "overrun",
            "month",
            "met",
        )
        empty_text = "No clocks match."

    def render_ticket_number(self, record: SlaMeasurement, value: str) -> str:
        url = reverse("service:ticket_detail", args=[record.ticket_id])
        return format_html('<a href="{}">{}</a>', url, value)

    def render_priority(self, value: str) -> str:
        return _choice_badge("priority", value, value)

    def value_priority(self, value: str) -> str:
        return value

    def render_side(self, record: SlaMeasurement, value: str) -> str:
        return _choice_badge("side", record.side, value)

    def value_side(self, record: SlaMeasurement) -> str:
        return record.side

    def value_metric(self, record: SlaMeasurement) -> str:
        return record.metric

    def render_overrun(self, record: SlaMeasurement) -> str:
        over = record.overrun_seconds
        if over > 0:
            return format_html('<span class="below-goal">{} over</span>', duration(over))
        return format_html("{} left", duration(-over))

    def value_overrun(self, record: SlaMeasurement) -> int:
        return record.overrun_seconds


class AtRiskTable(SlaMeasurementTable):
    """Open clocks within target: how much of it is used, flagged at 75 % and 90 %."""

    used = tables.Column(
        empty_values=(), verbose_name="Used", order_by=("elapsed_seconds",), orderable=True
    )

    class Meta(SlaMeasurementTable.Meta):
        fields = (*SlaMeasurementTable.Meta.fields, "used")
        sequence = (
            "ticket_number",
            "priority",
            "metric",
            "assignment_group",
            "side",
            "used",
            "elapsed_seconds",
            "target_seconds",
            "overrun",
            "...",
        )
        exclude = ("month", "met")
        attrs = {"class": "table at-risk"}
        empty_text = "No open clock has used 75 % of its target."

    def _used(self, record: SlaMeasurement) -> float:
        return record.elapsed_seconds / record.target_seconds if record.target_seconds else 1.0

    def render_used(self, record: SlaMeasurement) -> str:
        # Whole percents rounded down: a clock with time left never reads "100 %".
        used = (
            record.elapsed_seconds * 100 // record.target_seconds if record.target_seconds else 100
        )
        critical = record.elapsed_seconds * 100 >= CRITICAL_PERCENT * record.target_seconds
        flag = "90 %" if critical else "75 %"
        kind = "critical" if critical else "warning"
        return format_html(
            '{} % <span class="badge badge-risk badge-risk-{}">≥ {}</span>',
            used,
            kind,
            flag,
        )

    def value_used(self, record: SlaMeasurement) -> str:
        return f"{self._used(record):.4f}"


class SlaAggregateTable(BaseTable):
    month = MonthColumn(linkify=True)
    level = tables.Column()
    metric = tables.Column()
    priority = tables.Column()
    side = tables.Column()
    assignment_group = tables.Column(verbose_name="Group")
    count = CountColumn()
    met = CountColumn()
    attainment = tables.Column(empty_values=(), orderable=False, attrs={"td": {"class": "num"}})
    goal = tables.Column(attrs={"td": {"class": "num"}})
    median_seconds = DurationColumn(verbose_name="Median")
    p90_seconds = DurationColumn(verbose_name="p90")

    class Meta(BaseTable.Meta):
        model = SlaAggregate
        fields = (
            "month",
            "level",
            "metric",
            "priority",
            "side",
            "assignment_group",
            "count",
            "met",
            "attainment",
            "goal",
            "median_seconds",
            "p90_seconds",
        )
        empty_text = "No aggregates: no clock stopped in the run's months."

    def value_level(self, record: SlaAggregate) -> str:
        return record.level

    def value_metric(self, record: SlaAggregate) -> str:
        return record.metric

    def render_attainment(self, record: SlaAggregate) -> str:
        text = percent(record.attainment)
        if record.missed_goal:
            return format_html('<span class="below-goal">{}</span>', text)
        return text

    def value_attainment(self, record: SlaAggregate) -> str:
        return f"{record.attainment:.6f}"

    def render_goal(self, value: Any) -> str:
        return percent(float(value))

    def value_goal(self, value: Any) -> str:
        return str(value) if value is not None else ""


class ServiceCreditTable(BaseTable):
    month = MonthColumn(linkify=True)
    priority = tables.Column()
    metric = tables.Column()
    count = CountColumn()
    met = CountColumn()
    goal = tables.Column(attrs={"td": {"class": "num"}})
    missed = tables.BooleanColumn(verbose_name="Below goal")
    allocation_percent = tables.Column(verbose_name="Allocation %", attrs={"td": {"class": "num"}})
    credit = MoneyColumn()
    capped = MoneyColumn()
    due = MoneyColumn()
    currency = tables.Column()

    class Meta(BaseTable.Meta):
        model = ServiceCredit
        fields = (
            "month",
            "priority",
            "metric",
            "count",
            "met",
            "goal",
            "missed",
            "allocation_percent",
            "credit",
            "capped",
            "due",
            "currency",
        )
        empty_text = "No credit lines: the policy has no [credits] terms, or no run yet."

    def value_metric(self, record: ServiceCredit) -> str:
        return record.metric

    def render_goal(self, value: Any) -> str:
        return percent(float(value))

    def value_goal(self, value: Any) -> str:
        return str(value)
