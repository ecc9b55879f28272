"""Writing a :class:`~tandem.analytics.policy.Policy` back as the TOML :func:`parse_policy` reads.

The policy editor builds a ``Policy`` from its form and stores the TOML this module writes, so a
version made with the form and one typed by hand are the same kind of text, checked by the same
reader. The writing is exact: ``parse_policy(render_policy(p)) == p`` for every policy the
reader can produce (property-tested). Money and percentages are written as quoted decimal text
(``"125000.00"``), as the reader recommends; goals as TOML floats (Python's shortest repr, which
reads back to the same float); durations in the largest unit that divides them (``"4h"``,
``"90m"``, ``"45s"``); dates as ``"YYYY-MM-DD"`` strings, sorted. Comments are not kept: a policy
parsed from a commented file and written again loses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from tandem.analytics.calendar import ALL_DAY, WEEKDAYS, BusinessCalendar
from tandem.analytics.policy import CreditTerms, Policy, Target

_BARE_KEY = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def render_policy(policy: Policy, header: Iterable[str] = ()) -> str:
    """The policy as TOML; each line of ``header`` becomes a ``#`` comment at the top."""
    parts = [f"# {line}".rstrip() + "\n" for line in header]
    for name, calendar in policy.calendars.items():
        parts.append("\n" if parts else "")
        parts.append(_calendar(name, calendar))
    if policy.credits is not None:
        parts.append("\n" + _credits(policy.credits))
    for target in policy.targets:
        parts.append("\n" + _target(target))
    return "".join(parts)


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_key(name: str) -> str:
    """A key as written in a table header: bare when TOML allows it, else quoted."""
    return name if name and set(name) <= _BARE_KEY else toml_string(name)


def decimal_text(value: Decimal) -> str:
    """``Decimal`` as plain digits when that stays short, else in exponent form (both exact)."""
    if value.is_finite() and -30 <= value.adjusted() <= 30:
        return format(value, "f")
    return str(value)


def within_text(seconds: int) -> str:
    """``14400`` -> ``"4h"``, ``5400`` -> ``"90m"``, ``45`` -> ``"45s"``."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _calendar(name: str, calendar: BusinessCalendar) -> str:
    key = f"calendars.{toml_key(name)}"
    lines = [f"[{key}]", f"timezone = {toml_string(calendar.timezone)}"]
    if calendar.holiday_country is not None:
        lines.append(f"holiday_country = {toml_string(calendar.holiday_country)}")
    if calendar.holiday_subdivision is not None:
        lines.append(f"holiday_subdivision = {toml_string(calendar.holiday_subdivision)}")
    if calendar.holidays:
        dates = ", ".join(f'"{day.isoformat()}"' for day in sorted(calendar.holidays))
        lines.append(f"holidays = [{dates}]")
    if all(day == (ALL_DAY,) for day in calendar.weekly):
        lines.append('weekly = "24x7"')
    else:
        lines += ["", f"[{key}.weekly]"]
        for day, windows in zip(WEEKDAYS, calendar.weekly, strict=True):
            quoted = ", ".join(f'"{window}"' for window in windows)
            lines.append(f"{day} = [{quoted}]")
    return "\n".join(lines) + "\n"


def _credits(terms: CreditTerms) -> str:
    return (
        "[credits]\n"
        f'monthly_fee = "{decimal_text(terms.monthly_fee)}"\n'
        f"currency = {toml_string(terms.currency)}\n"
        f'at_risk_percent = "{decimal_text(terms.at_risk_percent)}"\n'
    )


def _target(target: Target) -> str:
    lines = [
        "[[targets]]",
        f"priority = {toml_string(target.priority)}",
        f"metric = {toml_string(target.metric)}",
        f"calendar = {toml_string(target.calendar)}",
        f'within = "{within_text(target.within_seconds)}"',
        f"pause_on_hold = {'true' if target.pause_on_hold else 'false'}",
    ]
    if target.goal is not None:
        lines.append(f"goal = {_float(target.goal)}")
    if target.credit_allocation_percent is not None:
        allocation = decimal_text(target.credit_allocation_percent)
        lines.append(f'credit_allocation_percent = "{allocation}"')
    if target.earn_back_months is not None:
        lines.append(f"earn_back_months = {target.earn_back_months}")
    if target.earn_back_goal is not None:
        lines.append(f"earn_back_goal = {_float(target.earn_back_goal)}")
    return "\n".join(lines) + "\n"


def _float(value: float) -> str:
    """A share as a TOML float: ``repr`` is the shortest text that reads back the same."""
    text = repr(float(value))
    return text if "." in text or "e" in text else f"{text}.0"
