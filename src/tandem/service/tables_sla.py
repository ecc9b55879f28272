"""Tables of SLA policy versions and runs (sortable, linked, plain values for CSV export)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.html import format_html

from tandem.core.tables import BaseTable, badge
from tandem.service.models import SlaPolicy, SlaRun
from tandem.service.tables import InstantColumn


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


class SlaPolicyTable(BaseTable):
    """``in_force`` and ``frozen`` are annotations (``views_sla.policy_rows``)."""

    version = tables.Column(linkify=True, verbose_name="Version")
    name = tables.Column(linkify=True)
    effective_from = tables.DateColumn(verbose_name="Effective from", format="Y-m-d")
    in_force = tables.BooleanColumn(verbose_name="In force now", orderable=False)
    frozen = tables.BooleanColumn(verbose_name="Frozen", orderable=False)
    created_by = tables.Column(verbose_name="Added by", order_by="created_by__full_name")

    class Meta(BaseTable.Meta):
        model = SlaPolicy
        fields = ("version", "name", "effective_from", "in_force", "frozen", "created_by")
        empty_text = "No policy version yet: add one, or upload a TOML file."

    def render_version(self, value: int) -> str:
        return f"v{value}"

    def value_version(self, value: int) -> int:
        return value

    def value_in_force(self, value: bool) -> str:
        return yes_no(value)

    def value_frozen(self, value: bool) -> str:
        return yes_no(value)


class CountColumn(tables.Column):
    """A count with thousands separators on the page, a plain number in the CSV."""

    def render(self, value: Any) -> str:
        return f"{value:,}"

    def value(self, value: Any) -> Any:
        return value


def duration(record: SlaRun) -> str:
    if record.finished_at is None:
        return ""
    seconds = max(0, int((record.finished_at - record.started_at).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class SlaRunTable(BaseTable):
    number = tables.Column(linkify=True, verbose_name="Run")
    status = tables.Column()
    as_of = InstantColumn(verbose_name="As of")
    started_at = InstantColumn(verbose_name="Started")
    started_by = tables.Column(verbose_name="By", order_by="started_by__full_name")
    tickets_measured = CountColumn(verbose_name="Tickets")
    measurements_count = CountColumn(verbose_name="Clocks")
    breaches_count = CountColumn(verbose_name="Breaches")
    at_risk_count = CountColumn(verbose_name="At risk")
    duration = tables.Column(empty_values=(), orderable=False)

    class Meta(BaseTable.Meta):
        model = SlaRun
        fields = (
            "number",
            "status",
            "as_of",
            "started_at",
            "started_by",
            "tickets_measured",
            "measurements_count",
            "breaches_count",
            "at_risk_count",
            "duration",
        )
        empty_text = "No SLA run yet."

    def render_number(self, value: int) -> str:
        return format_html('<span style="white-space: nowrap">Run #{}</span>', value)

    def value_number(self, value: int) -> int:
        return value

    def render_status(self, record: SlaRun, value: str) -> str:
        return badge("status", record.status, value)

    def value_status(self, record: SlaRun) -> str:
        return record.status

    def render_duration(self, record: SlaRun) -> str:
        return duration(record) or "—"

    def value_duration(self, record: SlaRun) -> Any:
        if record.finished_at is None:
            return ""
        return int((record.finished_at - record.started_at).total_seconds())
