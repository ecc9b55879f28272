"""The commented example policy: ``docs/sla-policy-example.toml`` and ``tandem sla init-policy``.

One text, two uses: the docs file is exactly what the command writes with its defaults (a test
compares them), so the example people read is the one they start from. Every key the policy
reader (``tandem.analytics.policy``) knows is shown, with what it means and what it accepts.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.core.management.base import CommandError

from tandem.analytics.policy import PolicyError, parse_policy

DEFAULT_COUNTRY = "US"
DEFAULT_TIMEZONE = "America/New_York"

_TEMPLATE = """\
# An SLA policy for Tandem: the business calendars the clocks run on, the targets (priority x
# metric) measured against them, and the service credits a missed month costs.
#
# Written by `tandem sla init-policy`; the same text is docs/sla-policy-example.toml.
# Use it with `tandem sla measure --policy FILE`, upload it as an SLA policy version, or
# build the same thing in the policy editor (SLA policy versions > New version).
# Every key below is read as written: an unknown or misspelt key is an error that names it
# (e.g. "targets[2].pause_on_hold: missing"), list positions counting from 0.

# ---------------------------------------------------------------------------------------------
# Calendars: when the service-level clock runs. Name them as you like ("business", "always");
# each target below names the calendar it is measured on.
# ---------------------------------------------------------------------------------------------

[calendars.business]
# An IANA time zone: the weekly hours below are this zone's wall-clock times (DST included).
timezone = "{timezone}"
# Public holidays of a country (ISO 3166 code), closed all day, observed dates included.
# Optional; add holiday_subdivision = "CA" for a state or province's own holidays.
holiday_country = "{country}"
# Other closed dates (company shutdowns, local holidays), as "YYYY-MM-DD". Optional.
holidays = ["2026-12-24", "2026-12-31"]

# Open hours per weekday as "HH:MM-HH:MM" windows (24:00 ends a day); several windows a day
# are allowed (["08:00-12:00", "13:00-17:00"]); a day left out or [] is closed.
[calendars.business.weekly]
mon = ["08:00-18:00"]
tue = ["08:00-18:00"]
wed = ["08:00-18:00"]
thu = ["08:00-18:00"]
fri = ["08:00-18:00"]
sat = []
sun = []

[calendars.always]
timezone = "{timezone}"
# "24x7": every hour of every day, holidays included (no holiday keys here).
weekly = "24x7"

# ---------------------------------------------------------------------------------------------
# Credits (optional): the contract's monthly fee and the share of it at risk each month. Amounts
# and percentages are quoted text so they are read exactly, never through a binary float.
# Leave the table out and the policy earns no credits (targets then have no allocation).
# ---------------------------------------------------------------------------------------------

[credits]
monthly_fee = "125000.00"
currency = "USD"         # ISO 4217
at_risk_percent = "12"   # of the monthly fee: the pool the targets' allocations share

# ---------------------------------------------------------------------------------------------
# Targets: one [[targets]] table per priority (P1-P4) and metric (response, resolution); at most
# one per pair. A ticket meets the target when the metric is reached within `within` of business
# time on its calendar.
#   within                     a whole number with its unit: "15m", "4h", "90s" (no days: say
#                              hours of business time, e.g. "24h")
#   pause_on_hold              true: time on hold does not count (resolution, usually)
#   goal                       optional: the share of a month's tickets that must meet it (0 to 1)
#   credit_allocation_percent  optional: the share of the at-risk pool this target forfeits in a
#                              month below goal (needs [credits] and a goal; all targets together
#                              at most 100)
#   earn_back_months and       optional, together: the credit is waived when each of the next
#   earn_back_goal             earn_back_months months (1-24) reaches earn_back_goal (>= goal)
# ---------------------------------------------------------------------------------------------

[[targets]]
priority = "P1"
metric = "response"
calendar = "always"
within = "15m"
pause_on_hold = false
goal = 0.95
credit_allocation_percent = "15"

[[targets]]
priority = "P1"
metric = "resolution"
calendar = "always"
within = "4h"
pause_on_hold = true
goal = 0.95
credit_allocation_percent = "25"
earn_back_months = 2
earn_back_goal = 0.97

[[targets]]
priority = "P2"
metric = "response"
calendar = "business"
within = "1h"
pause_on_hold = false
goal = 0.9
credit_allocation_percent = "10"

[[targets]]
priority = "P2"
metric = "resolution"
calendar = "business"
within = "8h"
pause_on_hold = true
goal = 0.9
credit_allocation_percent = "20"

[[targets]]
priority = "P3"
metric = "response"
calendar = "business"
within = "4h"
pause_on_hold = false
goal = 0.9

[[targets]]
priority = "P3"
metric = "resolution"
calendar = "business"
within = "36h"
pause_on_hold = true
goal = 0.9
credit_allocation_percent = "15"

[[targets]]
priority = "P4"
metric = "response"
calendar = "business"
within = "8h"
pause_on_hold = false
goal = 0.85

[[targets]]
priority = "P4"
metric = "resolution"
calendar = "business"
within = "60h"
pause_on_hold = true
goal = 0.85
credit_allocation_percent = "5"
"""


def example_policy(country: str = DEFAULT_COUNTRY, timezone: str = DEFAULT_TIMEZONE) -> str:
    """The commented example policy for ``country``'s holidays, in ``timezone``."""
    text = _TEMPLATE.replace("{country}", country).replace("{timezone}", timezone)
    parse_policy(text)  # a country or zone the reader refuses fails here, with its key
    return text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``tandem sla init-policy``."""
    parser.add_argument("--output", type=Path, help="the file to write (default: print the policy)")
    parser.add_argument(
        "--country",
        default=DEFAULT_COUNTRY,
        type=_country,
        help=f"public holidays of this country, ISO 3166 code (default {DEFAULT_COUNTRY})",
    )
    parser.add_argument(
        "--timezone",
        default=DEFAULT_TIMEZONE,
        type=_zone,
        help=f"the calendars' time zone, IANA name (default {DEFAULT_TIMEZONE})",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --output file")


def init_policy(options: dict[str, Any], write: Any) -> None:
    """Write the example (to ``--output`` or through ``write``); refuse to overwrite a file."""
    try:
        text = example_policy(options["country"], options["timezone"])
    except PolicyError as exc:  # e.g. a country the holidays package lists but cannot compute
        raise CommandError(f"--country/--timezone: {exc}") from None
    out: Path | None = options["output"]
    if out is None:
        write(text, ending="")
        return
    if out.exists() and not options["force"]:
        raise CommandError(f"{out} exists: choose another --output, or add --force to replace it")
    if out.is_dir():
        raise CommandError(f"{out} is a directory: name the file to write")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"{out}: cannot write ({exc.strerror or exc})") from None
    write(f"Wrote a commented SLA policy to {out} (holidays: {options['country']}).")


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in holidays.list_supported_countries():
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a country the holidays package knows (an ISO 3166 code, e.g. US)"
        )
    return code


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time zone (an IANA name, e.g. America/Chicago)"
        ) from None
    return value
