"""The story the demo tickets tell, as plain values: the window, the groups, the policy and
the months where something happens.

Riverside Health (America/Chicago) and Northwind Health IT, 18 months of service-desk
tickets from 1 May 2025 to 31 October 2026. The window is fixed, not relative to today, so
the dashboards, screenshots and tests show the same numbers on every machine and every day;
the SLA run measures as of the end of the window (local midnight, 1 November 2026), and
tickets whose clocks would stop after it are exported open.

What happens (all fictitious, all marked as demo data):

* **October 2025, EHR go-live.** Riverside takes its Epic clinical documentation and
  closed-loop medication modules live on Saturday 4 October. About 2.5 times a usual month's
  tickets arrive that month, most of the extra for Northwind EHR Support, in the days right
  after the cut-over and around the clock; everything takes longer, within the goals.
* **January 2026, Northwind slips.** Turnover on Northwind's EHR third line: P1 and P2
  resolution fall well below goal and the credits fall due. Northwind's recovery plan works:
  February and March beat the higher earn-back goals, so January's credits are earned back.
* **May 2026, amendment 1.** P2 response tightens from 1 h to 30 min and P2 resolution from
  12 h to 8 h of business time (policy version 2).
* **July 2026, Northwind slips again** (a storage migration goes wrong). August meets the
  goals but not the earn-back goals, so July's credits stay due; September is back to normal.

The business calendar is Monday to Friday 07:00-19:00 with US federal holidays: a business
day is 12 hours, so "3 business days" is written ``36h`` and "5 business days" ``60h``
(the policy format takes hours of business time, never days). P1 runs on a 24x7 calendar.
Response clocks never pause; resolution clocks pause while a ticket is on hold (awaiting
the caller or a third party).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

TIME_ZONE = "America/Chicago"
FIRST_MONTH = date(2025, 5, 1)
MONTHS = 18
#: The instant the export was taken: local midnight at the end of the window.
AS_OF = datetime(2026, 11, 1, tzinfo=ZoneInfo(TIME_ZONE)).astimezone(UTC)

#: Tickets in the full demo (tests pass a small number).
TICKETS = 150_000
SEED = 20251004

GO_LIVE = date(2025, 10, 4)
GO_LIVE_MONTH = date(2025, 10, 1)
#: The go-live month's volume, in usual months.
GO_LIVE_VOLUME = 2.5
#: Northwind's two bad months: the first is earned back, the second is not.
SLIP_MONTHS = (date(2026, 1, 1), date(2026, 7, 1))
#: The months after the first slip, when the recovery plan beats the earn-back goals.
RECOVERY_MONTHS = (date(2026, 2, 1), date(2026, 3, 1))
#: The month after the second slip: within the goals, short of the earn-back goals.
SHAKY_MONTH = date(2026, 8, 1)
AMENDMENT_FROM = date(2026, 5, 1)

VENDOR = "Northwind Health IT"

#: Assignment groups: (name, side, categories). Client groups first.
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Riverside Service Desk", "client", ("Account / access", "Hardware", "Software", "Printing")),
    ("Riverside Clinical Apps", "client", ("EHR", "Clinical application", "Interface")),
    ("Riverside Network", "client", ("Network", "Wireless", "VPN")),
    ("Northwind Service Desk", "vendor", ("Account / access", "Hardware", "Software", "Printing")),
    ("Northwind EHR Support", "vendor", ("EHR", "Clinical application", "Interface")),
    ("Northwind Infrastructure", "vendor", ("Server", "Storage", "Database", "Network")),
)
GROUP_NAMES = tuple(name for name, _, _ in GROUPS)
CLIENT_GROUPS = tuple(name for name, side, _ in GROUPS if side == "client")
VENDOR_GROUPS = tuple(name for name, side, _ in GROUPS if side == "vendor")

PRIORITY_RAW = ("1 - Critical", "2 - High", "3 - Moderate", "4 - Low")

FILE_NAME = "DEMO riverside-incidents.csv"
POLICY_NOTE = "Demo data: a fictitious schedule B, written for the Tandem demo."

_CALENDARS = """\
[calendars.business]
timezone = "America/Chicago"
holiday_country = "US"

[calendars.business.weekly]
mon = ["07:00-19:00"]
tue = ["07:00-19:00"]
wed = ["07:00-19:00"]
thu = ["07:00-19:00"]
fri = ["07:00-19:00"]

[calendars.always]
timezone = "America/Chicago"
weekly = "24x7"

[credits]
monthly_fee = "185000.00"
currency = "USD"
at_risk_percent = "12"
"""

_TARGET = """
[[targets]]
priority = "{priority}"
metric = "{metric}"
calendar = "{calendar}"
within = "{within}"
pause_on_hold = {pause}
goal = {goal}
"""


def _policy(p2_response: str, p2_resolution: str, title: str) -> str:
    # (priority, metric, calendar, within, goal, allocation %, earn-back goal over 2 months)
    rows = (
        ("P1", "response", "always", "15m", "0.95", "15", None),
        ("P1", "resolution", "always", "4h", "0.95", "25", "0.97"),
        ("P2", "response", "business", p2_response, "0.90", "10", None),
        ("P2", "resolution", "business", p2_resolution, "0.90", "20", "0.95"),
        ("P3", "response", "business", "4h", "0.90", None, None),
        ("P3", "resolution", "business", "36h", "0.90", "15", None),
        ("P4", "response", "business", "8h", "0.85", None, None),
        ("P4", "resolution", "business", "60h", "0.85", "5", None),
    )
    parts = [f"# {title} (demo data)\n", _CALENDARS]
    for priority, metric, calendar, within, goal, allocation, earn_back in rows:
        pause = "true" if metric == "resolution" else "false"
        parts.append(
            _TARGET.format(
                priority=priority,
                metric=metric,
                calendar=calendar,
                within=within,
                pause=pause,
                goal=goal,
            )
        )
        if allocation:
            parts.append(f'credit_allocation_percent = "{allocation}"\n')
        if earn_back:
            parts.append(f"earn_back_months = 2\nearn_back_goal = {earn_back}\n")
    return "".join(parts)


#: (version, name, effective_from, TOML): the original schedule and its amendment.
POLICIES: tuple[tuple[int, str, date, str], ...] = (
    (
        1,
        "MSA schedule B: service levels",
        FIRST_MONTH,
        _policy("1h", "12h", "Riverside × Northwind MSA, schedule B"),
    ),
    (
        2,
        "MSA schedule B, amendment 1: faster P2",
        AMENDMENT_FROM,
        _policy("30m", "8h", "Riverside × Northwind MSA, schedule B as amended (P2 faster)"),
    ),
)


def month_index(month: date) -> int:
    """0 for May 2025 … 17 for October 2026."""
    return (month.year - FIRST_MONTH.year) * 12 + month.month - FIRST_MONTH.month


def month_start(index: int) -> date:
    year, month = divmod(FIRST_MONTH.month - 1 + index, 12)
    return date(FIRST_MONTH.year + year, month + 1, 1)
