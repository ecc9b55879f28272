"""The policy editor's forms: a version's calendars, targets and credit terms as rows of fields.

The editor is a front end to the TOML, not a second format: :class:`PolicyEditor` turns a parsed
:class:`~tandem.analytics.policy.Policy` into rows (a new version starts from the previous one),
and rows back into a ``Policy`` that ``tandem.analytics.policy_toml`` writes as TOML; the version
is then saved through ``sla_policies`` like a typed one, so the reader's checks, the audit trail
and the numbering stay one path. Each field checks what it can (ranges, formats); the rules
between fields (an allocation needs credit terms and a goal, one target per priority and metric,
allocations within the pool) are the reader's, and its error (``targets[2].earn_back_goal: …``)
is put back on the row and field it names. The rows themselves: ``forms_policy_rows``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from tandem.analytics.calendar import BusinessCalendar
from tandem.analytics.policy import (
    Policy,
    PolicyError,
    Target,
)
from tandem.service.forms_policy_rows import (
    DAY_NAMES,
    MAX_CALENDARS,
    MAX_TARGETS,
    CalendarForm,
    CalendarFormSet,
    CreditTermsForm,
    PolicyVersionForm,
    TargetForm,
    TargetFormSet,
    share_of,
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
    **DAY_NAMES,
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
