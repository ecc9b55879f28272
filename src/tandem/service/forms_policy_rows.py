"""The policy editor's rows: one form per calendar, per target, and the credit terms.

Each field checks what it can (ranges, formats); the rules between fields are the reader's
(``tandem.analytics.policy``), and :mod:`tandem.service.forms_policy_editor` binds these rows
into one editor and puts the reader's errors back on them. Percentages are typed as people say
them (95 for a 95 % goal); the TOML holds goals as shares (0.95). A percentage keeps at most
4 decimals, so a share keeps at most 6, as the database does.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import holidays
from django import forms
from django.forms import formset_factory

from tandem.analytics.calendar import ALL_DAY, WEEKDAYS, BusinessCalendar, Window
from tandem.analytics.policy import (
    MAX_WITHIN_SECONDS,
    METRICS,
    PRIORITIES,
    CreditTerms,
    Target,
)
from tandem.analytics.policy_toml import within_text
from tandem.core.forms import time_zone_field
from tandem.service.forms_sla import SlaPolicyForm

MAX_CALENDARS = 10
#: Four priorities x two metrics is eight targets; room for rows being replaced.
MAX_TARGETS = 16
MAX_EXTRA_DATES = 366
_UNITS = {"h": 3600, "m": 60, "s": 1}
DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
_PERCENT_ERRORS = {
    "min_value": "must be between 0 and 100",
    "max_value": "must be between 0 and 100",
    "invalid": "not a number: write a percentage, e.g. 95 or 99.5",
    "max_decimal_places": "at most 4 decimal places, e.g. 99.95",
    "max_digits": "must be between 0 and 100",
    "max_whole_digits": "must be between 0 and 100",
}


def _country_choices() -> list[tuple[str, str]]:
    supported = holidays.list_supported_countries()
    named = {}
    for class_name, alpha2, *_ in holidays.registry.COUNTRIES.values():
        if alpha2 in supported:
            named[alpha2] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)
    rows = sorted(named.items(), key=lambda item: item[1])
    return [("", "None")] + [(code, f"{name} ({code})") for code, name in rows]


COUNTRY_CHOICES = _country_choices()


def percent_field(label: str, *, above_zero: bool = False, **kwargs: Any) -> forms.DecimalField:
    errors = dict(_PERCENT_ERRORS)
    if above_zero:
        errors["min_value"] = errors["max_value"] = "must be above 0 and at most 100"
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0.0001") if above_zero else Decimal(0),
        max_value=Decimal(100),
        # No digit count: the range says "0 to 100", the places say "4 decimals".
        max_digits=None,
        decimal_places=4,
        error_messages=errors,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal", "size": 6}),
        **kwargs,
    )


def percent_of(share: float | None) -> Decimal | None:
    """0.955 -> 95.5 (through the share's shortest text, so no binary float noise)."""
    if share is None:
        return None
    value = (Decimal(repr(share)) * 100).normalize()
    return Decimal(format(value, "f"))


def share_of(percent: Decimal | None) -> float | None:
    return None if percent is None else float(percent / 100)


# Calendars ------------------------------------------------------------------------------------


class CalendarForm(forms.Form):
    """One business calendar: name, time zone, hours per weekday, closed dates."""

    name = forms.CharField(
        label="Calendar name",
        max_length=60,
        help_text='Targets choose it by this name, e.g. "business".',
        error_messages={"required": "required: targets choose a calendar by its name"},
    )
    timezone = time_zone_field(label="Time zone")
    always_open = forms.BooleanField(
        required=False, label="Open 24 × 7", help_text="Every hour of every day; hours ignored."
    )
    holiday_country = forms.ChoiceField(
        choices=COUNTRY_CHOICES,
        required=False,
        label="Public holidays of",
        help_text="Closed on the country's public holidays (observed dates included).",
    )
    holiday_subdivision = forms.CharField(
        max_length=10,
        required=False,
        label="State or region",
        help_text="Optional: its own holidays too, e.g. CA for California.",
    )
    extra_dates = forms.CharField(
        required=False,
        label="Other closed dates",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One date a line (YYYY-MM-DD): shutdowns, local holidays.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for day in WEEKDAYS:
            self.fields[day] = forms.CharField(
                required=False,
                max_length=200,
                label=DAY_NAMES[day],
                widget=forms.TextInput(attrs={"placeholder": "closed", "size": 14}),
            )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
            raise forms.ValidationError("letters, digits, spaces and punctuation only")
        if not name:
            raise forms.ValidationError("required: targets choose a calendar by its name")
        return name

    def clean_holiday_subdivision(self) -> str:
        return str(self.cleaned_data["holiday_subdivision"]).strip().upper()

    def clean_extra_dates(self) -> frozenset[date]:
        text = self.cleaned_data["extra_dates"]
        lines = [line.strip() for line in re.split(r"[\n,;]", text) if line.strip()]
        if len(lines) > MAX_EXTRA_DATES:
            raise forms.ValidationError(
                f"{len(lines):,} dates: at most {MAX_EXTRA_DATES} (use the public holidays)"
            )
        days = set()
        for number, line in enumerate(lines, 1):
            try:
                days.add(date.fromisoformat(line))
            except ValueError:
                raise forms.ValidationError(
                    f"date {number} ({line[:20]!r}) is not a date like 2026-12-24"
                ) from None
        return frozenset(days)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        weekly = []
        for day in WEEKDAYS:
            windows = self._windows(day, data.get(day, ""))
            weekly.append(windows)
        country = data.get("holiday_country") or None
        subdivision = data.get("holiday_subdivision") or None
        if subdivision and not country:
            self.add_error("holiday_subdivision", "needs the country of public holidays")
            subdivision = None
        elif subdivision and country:
            known = holidays.list_supported_countries().get(country, [])
            if subdivision not in known:
                listed = ", ".join(known[:40]) + (" …" if len(known) > 40 else "")
                self.add_error(
                    "holiday_subdivision",
                    f"{subdivision!r} is not a region of {country}"
                    + (f" (known: {listed})" if listed else " (it has none)"),
                )
                subdivision = None
        if data.get("always_open"):
            weekly = [(ALL_DAY,)] * 7
        if not self.errors and "timezone" in data:
            try:
                data["calendar"] = BusinessCalendar(
                    data["timezone"],
                    tuple(weekly),
                    data.get("extra_dates", frozenset()),
                    country,
                    subdivision,
                )
            except ValueError as exc:
                self.add_error(None, str(exc))
        return data

    def _windows(self, day: str, text: str) -> tuple[Window, ...]:
        windows: list[Window] = []
        for part in (p.strip() for p in re.split(r"[,;]", text or "")):
            if not part:
                continue
            try:
                windows.append(Window.parse(part.replace(" ", "")))
            except ValueError as exc:
                self.add_error(day, f"{exc}: write HH:MM-HH:MM, e.g. 08:00-17:00")
                return ()
        windows.sort()
        for before, after in zip(windows, windows[1:], strict=False):
            if after.start < before.end:
                self.add_error(day, f"{before} and {after} overlap")
                return ()
        return tuple(windows)

    @staticmethod
    def initial_for(name: str, calendar: BusinessCalendar) -> dict[str, Any]:
        always = all(day == (ALL_DAY,) for day in calendar.weekly)
        row: dict[str, Any] = {
            "name": name,
            "timezone": calendar.timezone,
            "always_open": always,
            "holiday_country": calendar.holiday_country or "",
            "holiday_subdivision": calendar.holiday_subdivision or "",
            "extra_dates": "\n".join(d.isoformat() for d in sorted(calendar.holidays)),
        }
        for day, windows in zip(WEEKDAYS, calendar.weekly, strict=True):
            row[day] = "" if always else ", ".join(str(w) for w in windows)
        return row


# Targets --------------------------------------------------------------------------------------


class TargetForm(forms.Form):
    """One target: priority x metric, measured on a calendar, with its goal and credits."""

    priority = forms.ChoiceField(choices=[(p, p) for p in PRIORITIES], initial="P1")
    metric = forms.ChoiceField(choices=[(m, m.capitalize()) for m in METRICS], initial="response")
    calendar = forms.ChoiceField(choices=())
    within_amount = forms.IntegerField(
        label="Within",
        min_value=1,
        max_value=MAX_WITHIN_SECONDS,
        widget=forms.NumberInput(attrs={"size": 5, "min": 1}),
        error_messages={
            "required": "required: how long the metric may take",
            "invalid": "a whole number, e.g. 4",
            "min_value": "must be more than zero",
            "max_value": "too long: at most ten years",
        },
    )
    within_unit = forms.ChoiceField(
        label="Unit",
        choices=[("m", "minutes"), ("h", "hours"), ("s", "seconds")],
        initial="h",
    )
    pause_on_hold = forms.BooleanField(required=False, label="Pause on hold")
    goal = percent_field("Goal (%)", help_text="Share of the month's tickets that must meet it.")
    credit_allocation_percent = percent_field(
        "Credit allocation (%)", above_zero=True, help_text="Share of the at-risk pool."
    )
    earn_back_months = forms.IntegerField(
        label="Earn-back months",
        required=False,
        min_value=1,
        max_value=24,
        widget=forms.NumberInput(attrs={"size": 3}),
        error_messages={
            "invalid": "a whole number from 1 to 24",
            "min_value": "a whole number from 1 to 24",
            "max_value": "a whole number from 1 to 24",
        },
    )
    earn_back_goal = percent_field("Earn-back goal (%)")

    def __init__(self, *args: Any, calendar_names: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["calendar"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(name, name) for name in calendar_names]
        field.initial = calendar_names[0] if calendar_names else None
        field.error_messages["invalid_choice"] = (
            "unknown calendar %(value)s: choose one of the calendars above (renamed or removed?)"
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        amount, unit = data.get("within_amount"), data.get("within_unit")
        if amount is not None and unit:
            seconds = amount * _UNITS[unit]
            if seconds > MAX_WITHIN_SECONDS:
                self.add_error("within_amount", "too long: at most ten years")
            data["within_seconds"] = seconds
        return data

    @staticmethod
    def initial_for(target: Target) -> dict[str, Any]:
        text = within_text(target.within_seconds)
        return {
            "priority": target.priority,
            "metric": target.metric,
            "calendar": target.calendar,
            "within_amount": int(text[:-1]),
            "within_unit": text[-1],
            "pause_on_hold": target.pause_on_hold,
            "goal": percent_of(target.goal),
            "credit_allocation_percent": target.credit_allocation_percent,
            "earn_back_months": target.earn_back_months,
            "earn_back_goal": percent_of(target.earn_back_goal),
        }


# Credit terms ---------------------------------------------------------------------------------


class CreditTermsForm(forms.Form):
    """The ``[credits]`` table: on or off, the fee, its currency and the share at risk."""

    has_credits = forms.BooleanField(
        required=False,
        label="This version pays service credits",
        help_text="Off: no [credits] table; targets then have no credit allocation.",
    )
    monthly_fee = forms.DecimalField(
        required=False,
        label="Monthly fee",
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
        error_messages={
            "min_value": "must not be negative",
            "invalid": "not a number: write the amount, e.g. 125000.00",
            "max_digits": "too large: at most 12 digits before the decimal point",
            "max_whole_digits": "too large: at most 12 digits before the decimal point",
            "max_decimal_places": "at most 2 decimal places (cents)",
        },
    )
    currency = forms.CharField(
        required=False, max_length=3, min_length=3, widget=forms.TextInput(attrs={"size": 4})
    )
    at_risk_percent = percent_field(
        "At risk (%)", above_zero=True, help_text="Of the monthly fee: the pool targets share."
    )

    def clean_currency(self) -> str:
        value = str(self.cleaned_data["currency"]).strip().upper()
        if value and not re.fullmatch(r"[A-Z]{3}", value):
            raise forms.ValidationError("an ISO 4217 code of three letters, e.g. USD")
        return value

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("has_credits"):
            for name in ("monthly_fee", "currency", "at_risk_percent"):
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, "required when the version pays service credits")
        return data

    def terms(self) -> CreditTerms | None:
        data = self.cleaned_data
        if not data.get("has_credits"):
            return None
        return CreditTerms(data["monthly_fee"], data["currency"], data["at_risk_percent"])

    @staticmethod
    def initial_for(terms: CreditTerms | None, currency: str) -> dict[str, Any]:
        if terms is None:
            return {"has_credits": False, "currency": currency}
        return {
            "has_credits": True,
            "monthly_fee": terms.monthly_fee,
            "currency": terms.currency,
            "at_risk_percent": terms.at_risk_percent,
        }


class PolicyVersionForm(SlaPolicyForm):
    """The version's name, start month and note: the TOML is what the rows below make."""

    class Meta(SlaPolicyForm.Meta):
        fields = ["name", "effective_from", "note"]


CalendarFormSet = formset_factory(
    CalendarForm,
    extra=0,
    can_delete=True,
    max_num=MAX_CALENDARS,
    validate_max=True,
    absolute_max=2 * MAX_CALENDARS,
)
TargetFormSet = formset_factory(
    TargetForm,
    extra=0,
    can_delete=True,
    max_num=MAX_TARGETS,
    validate_max=True,
    absolute_max=2 * MAX_TARGETS,
)
