"""The SLA policy: named business calendars and the targets measured against them.

A policy is written in TOML (the format of issue 3, item 7) and read by :func:`parse_policy`
into frozen dataclasses. Every mistake is a :class:`PolicyError` naming the key path
(``targets[2].calendar``, ``calendars.business.weekly.mon[0]``; list indexes count from 0),
because a policy is typed by hand and argued over: "invalid policy" helps nobody. Unknown keys
are errors too, so a misspelt ``pause_on_hod`` cannot silently measure something else.

Service credits are optional: a ``[credits]`` table (``monthly_fee``, ``currency``,
``at_risk_percent``) and, per target, ``credit_allocation_percent`` with an optional earn-back
(``earn_back_months``, ``earn_back_goal``). Money and percentages become ``Decimal`` read from
the text as written (``"125000.00"`` or ``125000``), never through a binary float, because a
credit is an amount on an invoice.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tandem.analytics.calendar import ALL_DAY, WEEKDAYS, BusinessCalendar, Window

PRIORITIES = ("P1", "P2", "P3", "P4")
METRICS = ("response", "resolution")

_WITHIN = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600}
_CURRENCY = re.compile(r"^[A-Z]{3}$")

#: The longest ``within``: ten years of business time. Longer is a typo (extra zeros), and
#: amounts past it would overflow the engine's 64-bit second counts.
MAX_WITHIN_SECONDS = 10 * 366 * 24 * 3600

#: The most the targets' allocations may add up to, in percent of the at-risk pool.
POOL_PERCENTAGE_LIMIT = Decimal(100)


class PolicyError(ValueError):
    """A policy that cannot be used: ``path`` is the TOML key, ``reason`` what is wrong."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """A service level: tickets of ``priority`` must reach ``metric`` within ``within_seconds``
    of business time in ``calendar``; ``goal`` is the monthly share that must (None: no goal).
    """

    priority: str
    metric: str
    calendar: str
    within_seconds: int
    pause_on_hold: bool
    goal: float | None = None
    #: Share of the at-risk pool this target forfeits in a month below ``goal`` (percent).
    credit_allocation_percent: Decimal | None = None
    #: A credit is waived when each of the next ``earn_back_months`` months meets
    #: ``earn_back_goal`` (see ``credits.py``).
    earn_back_months: int | None = None
    earn_back_goal: float | None = None


@dataclass(frozen=True)
class CreditTerms:
    """The contract's money: the monthly fee (in ``currency``) and the share of it at risk."""

    monthly_fee: Decimal
    currency: str
    at_risk_percent: Decimal


@dataclass(frozen=True)
class Policy:
    """Calendars by name (in the order written) and targets (in the order written)."""

    calendars: Mapping[str, BusinessCalendar]
    targets: tuple[Target, ...]
    credits: CreditTerms | None = None

    def __hash__(self) -> int:
        return hash((tuple(self.calendars.items()), self.targets, self.credits))


def load_policy(path: str | Path) -> Policy:
    """Read a policy TOML file."""
    return parse_policy(Path(path).read_text(encoding="utf-8"))


def parse_policy(text: str) -> Policy:
    """Read a policy from TOML text; raise :class:`PolicyError` on any mistake."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError("", f"not valid TOML: {error}") from None
    _only_keys("", document, required=("calendars", "targets"), optional=("credits",))
    calendars = _table("calendars", document["calendars"])
    if not calendars:
        raise PolicyError("calendars", "at least one calendar is required")
    parsed = {str(name): _calendar(f"calendars.{name}", value) for name, value in calendars.items()}
    raw_targets = document["targets"]
    if not isinstance(raw_targets, list) or not raw_targets:
        raise PolicyError("targets", "at least one [[targets]] table is required")
    targets = tuple(_target(f"targets[{i}]", raw, parsed) for i, raw in enumerate(raw_targets))
    seen: dict[tuple[str, str], int] = {}
    for i, target in enumerate(targets):
        key = (target.priority, target.metric)
        if key in seen:
            raise PolicyError(
                f"targets[{i}]",
                f"a second {target.metric} target for {target.priority} "
                f"(the first is targets[{seen[key]}])",
            )
        seen[key] = i
    terms = _credit_terms("credits", document["credits"]) if "credits" in document else None
    _check_allocations(targets, terms)
    return Policy(MappingProxyType(parsed), targets, terms)


def _credit_terms(path: str, raw: Any) -> CreditTerms:
    table = _table(path, raw)
    _only_keys(path, table, required=("monthly_fee", "currency", "at_risk_percent"), optional=())
    fee = _decimal(f"{path}.monthly_fee", table["monthly_fee"], 'e.g. "125000.00"')
    if fee < 0:
        raise PolicyError(f"{path}.monthly_fee", f"{table['monthly_fee']!r}: must not be negative")
    currency = _string(f"{path}.currency", table["currency"])
    if not _CURRENCY.match(currency):
        raise PolicyError(f"{path}.currency", f"{currency!r}: write an ISO 4217 code, e.g. USD")
    at_risk = _percent(f"{path}.at_risk_percent", table["at_risk_percent"])
    return CreditTerms(fee, currency, at_risk)


def _check_allocations(targets: tuple[Target, ...], terms: CreditTerms | None) -> None:
    """Allocations need ``[credits]`` and a goal, and may not exceed the pool between them."""
    allocated = [(i, t) for i, t in enumerate(targets) if t.credit_allocation_percent is not None]
    for i, target in allocated:
        key = f"targets[{i}].credit_allocation_percent"
        if terms is None:
            raise PolicyError(key, "needs a [credits] table (monthly_fee, currency, ...)")
        if target.goal is None:
            raise PolicyError(key, "needs a goal: a credit is due when a month misses it")
    total = sum((t.credit_allocation_percent or Decimal(0) for _, t in allocated), Decimal(0))
    if total > POOL_PERCENTAGE_LIMIT:
        named = ", ".join(
            f"targets[{i}] ({t.priority} {t.metric}) {t.credit_allocation_percent}%"
            for i, t in allocated
        )
        raise PolicyError(
            "targets",
            f"credit allocations add up to {total}%, above the pool limit of "
            f"{POOL_PERCENTAGE_LIMIT}%: {named}",
        )


def _calendar(path: str, raw: Any) -> BusinessCalendar:
    table = _table(path, raw)
    _only_keys(
        path,
        table,
        required=("timezone", "weekly"),
        optional=("holidays", "holiday_country", "holiday_subdivision"),
    )
    timezone = _string(f"{path}.timezone", table["timezone"])
    weekly = _weekly(f"{path}.weekly", table["weekly"])
    holidays = _dates(f"{path}.holidays", table.get("holidays", []))
    country = _optional_string(f"{path}.holiday_country", table.get("holiday_country"))
    subdivision = _optional_string(f"{path}.holiday_subdivision", table.get("holiday_subdivision"))
    if subdivision is not None and country is None:
        raise PolicyError(f"{path}.holiday_subdivision", "needs holiday_country")
    try:
        BusinessCalendar("UTC", ((),) * 7, frozenset(), country, subdivision)
    except ValueError as error:
        key = "holiday_subdivision" if "subdivision" in str(error) else "holiday_country"
        raise PolicyError(f"{path}.{key}", str(error)) from None
    try:
        return BusinessCalendar(timezone, weekly, holidays, country, subdivision)
    except ValueError as error:  # the time zone: windows and dates are checked above
        raise PolicyError(f"{path}.timezone", str(error)) from None


def _weekly(path: str, raw: Any) -> tuple[tuple[Window, ...], ...]:
    if isinstance(raw, str):
        if raw != "24x7":
            raise PolicyError(path, f"{raw!r}: write '24x7' or a table of days (mon = [...])")
        return ((ALL_DAY,),) * 7
    table = _table(path, raw)
    _only_keys(path, table, required=(), optional=WEEKDAYS)
    days = []
    for day in WEEKDAYS:
        raw_windows = table.get(day, [])
        if not isinstance(raw_windows, list):
            raise PolicyError(f"{path}.{day}", 'must be a list of windows, e.g. ["08:00-17:00"]')
        windows = []
        for i, text in enumerate(raw_windows):
            key = f"{path}.{day}[{i}]"
            text = _string(key, text)
            try:
                windows.append((Window.parse(text), i))
            except ValueError as error:
                raise PolicyError(key, str(error)) from None
        windows.sort()
        for (before, i), (after, j) in zip(windows, windows[1:], strict=False):
            if after.start < before.end:
                raise PolicyError(
                    f"{path}.{day}[{max(i, j)}]",
                    f"window {after if j > i else before} overlaps "
                    f"{day}[{min(i, j)}] {before if j > i else after}",
                )
        days.append(tuple(w for w, _ in windows))
    return tuple(days)


def _dates(path: str, raw: Any) -> frozenset[date]:
    if not isinstance(raw, list):
        raise PolicyError(path, 'must be a list of dates, e.g. ["2025-12-25"]')
    dates = set()
    for i, value in enumerate(raw):
        if isinstance(value, date) and not hasattr(value, "hour"):
            dates.add(value)
            continue
        if isinstance(value, str):
            try:
                dates.add(date.fromisoformat(value))
                continue
            except ValueError:
                pass
        raise PolicyError(f"{path}[{i}]", f"{value!r} is not a date like 2025-12-25")
    return frozenset(dates)


def _target(path: str, raw: Any, calendars: Mapping[str, BusinessCalendar]) -> Target:
    table = _table(path, raw)
    _only_keys(
        path,
        table,
        required=("priority", "metric", "calendar", "within", "pause_on_hold"),
        optional=("goal", "credit_allocation_percent", "earn_back_months", "earn_back_goal"),
    )
    priority = _choice(f"{path}.priority", table["priority"], PRIORITIES)
    metric = _choice(f"{path}.metric", table["metric"], METRICS)
    calendar = _string(f"{path}.calendar", table["calendar"])
    if calendar not in calendars:
        known = ", ".join(calendars)
        raise PolicyError(f"{path}.calendar", f"unknown calendar {calendar!r} (known: {known})")
    within = _within(f"{path}.within", table["within"])
    pause = table["pause_on_hold"]
    if not isinstance(pause, bool):
        raise PolicyError(f"{path}.pause_on_hold", f"{pause!r}: must be true or false")
    goal = _share(f"{path}.goal", table.get("goal"))
    allocation = table.get("credit_allocation_percent")
    if allocation is not None:
        allocation = _percent(f"{path}.credit_allocation_percent", allocation)
    months = table.get("earn_back_months")
    earn_back_goal = _share(f"{path}.earn_back_goal", table.get("earn_back_goal"))
    if months is not None:
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 24:
            raise PolicyError(f"{path}.earn_back_months", f"{months!r}: a whole number 1 to 24")
        if allocation is None:
            raise PolicyError(f"{path}.earn_back_months", "needs credit_allocation_percent")
        if earn_back_goal is None:
            raise PolicyError(f"{path}.earn_back_goal", "missing (earn_back_months needs it)")
    elif earn_back_goal is not None:
        raise PolicyError(f"{path}.earn_back_months", "missing (earn_back_goal needs it)")
    if earn_back_goal is not None and goal is not None and earn_back_goal < goal:
        raise PolicyError(
            f"{path}.earn_back_goal",
            f"{earn_back_goal!r} is below the goal {goal!r}: earning back needs a higher bar",
        )
    return Target(
        priority, metric, calendar, within, pause, goal, allocation, months, earn_back_goal
    )


def _share(path: str, raw: Any) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 1:
        raise PolicyError(path, f"{raw!r}: must be a share from 0 to 1, e.g. 0.95")
    return float(raw)


def _decimal(path: str, raw: Any, example: str) -> Decimal:
    """A number or numeric string as an exact Decimal (a float through its shortest repr)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise PolicyError(path, f"{raw!r}: must be a number, {example}")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise PolicyError(path, f"{raw!r}: not a number, {example}") from None
    if not value.is_finite():
        raise PolicyError(path, f"{raw!r}: must be a finite number, {example}")
    return value


def _percent(path: str, raw: Any) -> Decimal:
    value = _decimal(path, raw, "e.g. 12 for 12%")
    if not 0 < value <= 100:
        raise PolicyError(path, f"{raw!r}: must be a percentage above 0 and at most 100")
    if value != value.quantize(Decimal("0.0001")):  # the credit tables keep 4 decimals
        raise PolicyError(path, f"{raw!r}: at most 4 decimal places, e.g. 12.5")
    return value


def _within(path: str, raw: Any) -> int:
    if not isinstance(raw, str):
        raise PolicyError(path, f'{raw!r}: write a duration with its unit, e.g. "4h" or "240m"')
    match = _WITHIN.match(raw)
    if match is None:
        raise PolicyError(path, f'{raw!r}: write a whole number and a unit s, m or h, e.g. "4h"')
    amount, unit = int(match.group(1)), match.group(2)
    if unit.lower() in ("d", "day", "days"):
        raise PolicyError(
            path,
            f"{raw!r}: days are not accepted, their meaning is ambiguous (calendar days or "
            'business days?); write hours of business time, e.g. "9h" or "24h"',
        )
    if unit not in _UNITS:
        raise PolicyError(path, f"{raw!r}: unknown unit {unit!r} (use s, m or h)")
    if amount == 0:
        raise PolicyError(path, f"{raw!r}: must be more than zero")
    if amount * _UNITS[unit] > MAX_WITHIN_SECONDS:
        raise PolicyError(
            path, f"{raw!r}: too long, at most ten years ({MAX_WITHIN_SECONDS // 3600}h)"
        )
    return amount * _UNITS[unit]


def _table(path: str, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PolicyError(path, f"must be a table, not {type(raw).__name__}")
    return raw


def _only_keys(
    path: str, table: Mapping[str, Any], required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
    prefix = f"{path}." if path else ""
    allowed = (*required, *optional)
    for key in table:
        if key not in allowed:
            raise PolicyError(
                f"{prefix}{key}", f"unknown key (expected: {', '.join(sorted(allowed))})"
            )
    for key in required:
        if key not in table:
            raise PolicyError(f"{prefix}{key}", "missing")


def _string(path: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise PolicyError(path, f"{raw!r}: must be a string")
    return raw


def _optional_string(path: str, raw: Any) -> str | None:
    return None if raw is None else _string(path, raw)


def _choice(path: str, raw: Any, choices: tuple[str, ...]) -> str:
    value = _string(path, raw)
    if value not in choices:
        raise PolicyError(path, f"{value!r}: must be one of {', '.join(choices)}")
    return value
