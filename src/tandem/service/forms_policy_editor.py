"""The policy editor's forms: a version's calendars, targets and credit terms as rows of fields.

The editor is a front end to the TOML, not a second format: :class:`PolicyEditor` turns a parsed
:class:`~tandem.analytics.policy.Policy` into rows (a new version starts from the previous one),
and rows back into a ``Policy`` that ``tandem.analytics.policy_toml`` writes as TOML; the version
is then saved through ``sla_policies`` like a typed one, so the reader's checks, the audit trail
and the numbering stay one path. Each field checks what it can (ranges, formats); the rules
between fields (an allocation needs credit terms and a goal, one target per priority and metric,
allocations within the pool) are the reader's, and its error (``targets[2].earn_back_goal: …``)
is put back on the row and field it names.

Percentages are typed as people say them (95 for a 95 % goal); the TOML holds goals as shares
(0.95). A percentage keeps at most 4 decimals, so a share keeps at most 6, as the database does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from types import MappingProxyType
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
    Policy,
    PolicyError,
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
_DAY_NAMES = dict(
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
                label=_DAY_NAMES[day],
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


# The editor: every form of the page, and the policy they make ----------------------------------

#: Field names as the error summary says them ("Targets, row 3, goal: …").
SUMMARY_NAMES = {
    "within_amount": "within",
    "within_unit": "within",
    "goal": "goal",
    "credit_allocation_percent": "credit allocation",
    "earn_back_months": "earn-back months",
    "earn_back_goal": "earn-back goal",
    "pause_on_hold": "pause on hold",
    "holiday_country": "public holidays",
    "holiday_subdivision": "state or region",
    "extra_dates": "other closed dates",
    "timezone": "time zone",
    "always_open": "open 24 × 7",
    "monthly_fee": "monthly fee",
    "at_risk_percent": "at risk",
    "has_credits": "service credits",
    "effective_from": "Effective from",
    "name": "name",
    "note": "note",
    **_DAY_NAMES,
}
#: The TOML key of a target or credit terms -> the form field that holds it.
_TARGET_FIELDS = {"within": "within_amount"}
_CALENDAR_FIELDS = {"holidays": "extra_dates", "weekly": "always_open"}


class PolicyEditor:
    """The version form, the calendar and target formsets and the credit terms, bound together.

    ``data`` None: unbound, from ``policy`` (the previous version, or this one) and
    ``version_initial``. Bound: ``policy()`` builds the Policy once every form is valid.
    """

    def __init__(
        self,
        *,
        instance: Any,
        user: Any,
        data: Any = None,
        policy: Policy | None = None,
        version_initial: dict[str, Any] | None = None,
        currency: str = "USD",
        time_zone: str = "UTC",
    ) -> None:
        self.version = PolicyVersionForm(
            data, instance=instance, user=user, initial=version_initial or {}
        )
        calendar_initial = [
            CalendarForm.initial_for(name, c)
            for name, c in (policy.calendars if policy else {}).items()
        ]
        self.calendars = CalendarFormSet(
            data,
            prefix="calendars",
            initial=calendar_initial if data is None else None,
            form_kwargs={"initial": {"timezone": time_zone}} if data is not None else {},
            error_messages={
                "too_many_forms": f"at most {MAX_CALENDARS} calendars",
                "missing_management_form": "the page was incomplete: reload it and try again",
            },
        )
        names = (
            self.calendar_names(data)
            if data is not None
            else tuple(row["name"] for row in calendar_initial)
        )
        self.targets = TargetFormSet(
            data,
            prefix="targets",
            initial=[TargetForm.initial_for(t) for t in policy.targets]
            if policy and data is None
            else None,
            form_kwargs={"calendar_names": names},
            error_messages={
                "too_many_forms": f"at most {MAX_TARGETS} targets (four priorities × two metrics)",
                "missing_management_form": "the page was incomplete: reload it and try again",
            },
        )
        self.credits = CreditTermsForm(
            data,
            prefix="credits",
            initial=CreditTermsForm.initial_for(policy.credits if policy else None, currency),
        )
        #: Errors the reader raised that no field holds: (TOML path, reason).
        self.policy_errors: list[str] = []
        self._target_rows: list[int] = []
        self._calendar_rows: dict[str, int] = {}

    @staticmethod
    def calendar_names(data: Any) -> tuple[str, ...]:
        """The calendar names as posted (targets choose among them), before any validation."""
        try:
            total = min(int(data.get("calendars-TOTAL_FORMS", 0)), 2 * MAX_CALENDARS)
        except (TypeError, ValueError):
            return ()
        names = []
        for i in range(max(total, 0)):
            if data.get(f"calendars-{i}-DELETE"):
                continue
            name = str(data.get(f"calendars-{i}-name", "")).strip()
            if name and name not in names:
                names.append(name)
        return tuple(names)

    def is_valid(self) -> bool:
        valid = [
            self.version.is_valid(),
            self.calendars.is_valid(),
            self.targets.is_valid(),
            self.credits.is_valid(),
        ]
        sets: tuple[tuple[Any, str], ...] = (
            (self.calendars, "calendar"),
            (self.targets, "target"),
        )
        for formset, what in sets:
            kept = [f for f in formset.forms if not self._skipped(formset, f)]
            if (
                formset.is_bound
                and not formset.non_form_errors()
                and not kept
                and all(f.is_valid() or self._deleted(formset, f) for f in formset.forms)
            ):
                formset._non_form_errors.append(f"at least one {what} is required")
                valid.append(False)
        return all(valid)

    def policy(self) -> Policy | None:
        """The Policy the valid forms describe (not yet checked by the reader); None when two
        calendars share a name (the error is on the second)."""
        calendars: dict[str, BusinessCalendar] = {}
        for i, calendar_form in enumerate(self.calendars.forms):
            if self._skipped(self.calendars, calendar_form):
                continue
            name = calendar_form.cleaned_data["name"]
            if name in calendars:
                calendar_form.add_error("name", f"a second calendar named {name!r}")
                return None
            calendars[name] = calendar_form.cleaned_data["calendar"]
            self._calendar_rows[name] = i
        targets = []
        for i, form in enumerate(self.targets.forms):
            if self._skipped(self.targets, form):
                continue
            data = form.cleaned_data
            targets.append(
                Target(
                    data["priority"],
                    data["metric"],
                    data["calendar"],
                    data["within_seconds"],
                    bool(data["pause_on_hold"]),
                    share_of(data.get("goal")),
                    data.get("credit_allocation_percent"),
                    data.get("earn_back_months"),
                    share_of(data.get("earn_back_goal")),
                )
            )
            self._target_rows.append(i)
        return Policy(MappingProxyType(calendars), tuple(targets), self.credits.terms())

    @staticmethod
    def _deleted(formset: Any, form: Any) -> bool:
        return bool(formset._should_delete_form(form))

    @classmethod
    def _skipped(cls, formset: Any, form: Any) -> bool:
        """Removed rows and untouched added rows make nothing."""
        return cls._deleted(formset, form) or not getattr(form, "cleaned_data", None)

    def place(self, error: PolicyError) -> None:
        """Put the reader's error on the row and field its path names, else keep it whole."""
        path, reason = error.path, error.reason
        match = re.fullmatch(r"targets\[(\d+)\](?:\.(\w+))?.*", path)
        if match and int(match.group(1)) < len(self._target_rows):
            form = self.targets.forms[self._target_rows[int(match.group(1))]]
            key = match.group(2)
            field = _TARGET_FIELDS.get(key or "", key)
            form.add_error(field if field in form.fields else None, reason)
            return
        if path == "targets":
            _formset_error(self.targets, reason)
            return
        if path == "calendars":
            _formset_error(self.calendars, reason)
            return
        if path.startswith("credits."):
            key = path.removeprefix("credits.")
            self.credits.add_error(key if key in self.credits.fields else None, reason)
            return
        for name, i in self._calendar_rows.items():
            prefix = f"calendars.{name}."
            if path.startswith(prefix):
                key = re.split(r"[.\[]", path.removeprefix(prefix))[0]
                calendar_form = self.calendars.forms[i]
                field = _CALENDAR_FIELDS.get(key, key)
                calendar_form.add_error(field if field in calendar_form.fields else None, reason)
                return
        self.policy_errors.append(f"{path}: {reason}" if path else reason)

    def summary(self) -> list[str]:
        """Every error, named as a person finds it: "Targets, row 3, goal: must be …"."""
        lines = [self._line(None, name, errors) for name, errors in self.version.errors.items()]
        sets: tuple[tuple[str, Any], ...] = (
            ("Calendars", self.calendars),
            ("Targets", self.targets),
        )
        for title, formset in sets:
            lines += [f"{title}: {error}" for error in formset.non_form_errors()]
            for i, form in enumerate(formset.forms):
                if self._deleted(formset, form):
                    continue
                for name, errors in form.errors.items():
                    lines.append(self._line(f"{title}, row {i + 1}", name, errors))
        lines += [self._line("Credit terms", n, e) for n, e in self.credits.errors.items()]
        lines += [f"Policy: {error}" for error in self.policy_errors]
        return lines

    @staticmethod
    def _line(where: str | None, name: str, errors: Any) -> str:
        text = " ".join(str(e) for e in errors)
        if name == "__all__":
            return f"{where}: {text}" if where else text
        label = SUMMARY_NAMES.get(name, name)
        return f"{where}, {label}: {text}" if where else f"{label.capitalize()}: {text}"

    def forms(self) -> Iterator[Any]:
        yield self.version
        yield self.calendars
        yield self.targets
        yield self.credits


def _formset_error(formset: Any, message: str) -> None:
    """An error of the rows as a whole ("Targets: …"), after the formset was validated."""
    formset.non_form_errors()
    formset._non_form_errors.append(message)
