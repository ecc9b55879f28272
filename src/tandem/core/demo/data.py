"""The demo data set, as plain values: organizations, engagements, people and their roles.

Everything here is fictitious and marked as demo data. Later issues add their own modules
beside this one (contracts, tickets, plans…) and a loader step in ``tandem.core.demo``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from tandem.core.choices import EngagementKind, OrganizationKind, Phase, Role, SizeUnit

PASSWORD = "tandem-demo"
URL = "http://127.0.0.1:8000"
DESCRIPTION_PREFIX = "Demo data set — "
ORGANIZATION_NOTE = "Demo organization"


@dataclass(frozen=True)
class DemoOrganization:
    name: str
    kind: str
    time_zone: str
    notes: str
    size: int | None = None
    size_unit: str = ""
    website: str = ""


@dataclass(frozen=True)
class DemoEngagement:
    key: str
    name: str
    client: str
    kind: str
    phase: str
    description: str
    vendors: tuple[tuple[str, str], ...]  # (vendor organization, what it does here)
    client_scope: str
    #: Its start: a fixed date (an engagement whose demo records are dated), or that many
    #: months before the day the demo is loaded (the first of that month).
    start: date | int
    term_years: int
    time_zone: str = "America/Chicago"
    currency: str = "USD"


@dataclass(frozen=True)
class DemoPerson:
    email: str
    full_name: str
    job_title: str
    organization: str | None
    roles: tuple[tuple[str, str], ...] = field(default=())  # (engagement key, role)
    platform_admin: bool = False
    #: May open engagements for their organization (the organization-level right).
    organization_admin: bool = False


ORGANIZATIONS = (
    DemoOrganization(
        name="Riverside Health",
        kind=OrganizationKind.HEALTH_SYSTEM,
        time_zone="America/Chicago",
        size=900,
        size_unit=SizeUnit.BEDS,
        website="https://riverside.example",
        notes=(
            f"{ORGANIZATION_NOTE}. A three-hospital health system of about 900 beds: "
            "Riverside Medical Center (the 520-bed flagship and level II trauma center), "
            "Riverside North (230 beds) and Riverside Lakeview (150 beds), with 14 outpatient "
            "clinics and one shared Epic instance."
        ),
    ),
    DemoOrganization(
        name="Northwind Health IT",
        kind=OrganizationKind.VENDOR,
        time_zone="America/Chicago",
        website="https://northwind.example",
        notes=(
            f"{ORGANIZATION_NOTE}. Managed-services firm for hospitals: 24×7 service desk, "
            "infrastructure operations and application support."
        ),
    ),
    DemoOrganization(
        name="Lakeside Family Medicine",
        kind=OrganizationKind.PRACTICE,
        time_zone="America/Chicago",
        size=12,
        size_unit=SizeUnit.PROVIDERS,
        website="https://lakeside.example",
        notes=(
            f"{ORGANIZATION_NOTE}. A 12-provider family-medicine practice with two offices, "
            "a cloud EHR and no IT staff of its own."
        ),
    ),
    DemoOrganization(
        name="Harbor Managed IT",
        kind=OrganizationKind.VENDOR,
        time_zone="America/Chicago",
        website="https://harbor.example",
        notes=(
            f"{ORGANIZATION_NOTE}. Managed IT provider for small practices: help desk, "
            "endpoints, network, backups and HIPAA security basics."
        ),
    ),
)

ENGAGEMENTS = (
    DemoEngagement(
        key="riverside",
        name="Riverside × Northwind managed services",
        client="Riverside Health",
        kind=EngagementKind.BLENDED,
        phase=Phase.OPERATE,
        description=(
            f"{DESCRIPTION_PREFIX}Blended managed services: Northwind runs the 24×7 service "
            "desk, end-user support and infrastructure operations for all three Riverside "
            "hospitals, while Riverside's own team keeps clinical applications and "
            "integration. Five-year term, now in its second year of operation."
        ),
        vendors=(
            (
                "Northwind Health IT",
                "Service desk, end-user support and infrastructure operations",
            ),
        ),
        client_scope="Clinical applications, integration and IT governance",
        # Its demo tickets, policies and SLA run are dated from May 2025
        # (tandem.service.demo.scenario): the engagement starts with them, whenever the demo
        # is loaded.
        start=date(2025, 5, 1),
        term_years=5,
    ),
    DemoEngagement(
        key="lakeside",
        name="Lakeside practice IT",
        client="Lakeside Family Medicine",
        kind=EngagementKind.PRACTICE_IT,
        phase=Phase.TRANSITION,
        description=(
            f"{DESCRIPTION_PREFIX}Practice IT: Harbor takes over help desk, devices, network "
            "and backups from the office manager and a part-time contractor. Transition-in "
            "is under way."
        ),
        vendors=(("Harbor Managed IT", "Help desk, devices, network, backups and security"),),
        client_scope="Practice administration and EHR vendor relationship",
        start=2,  # a transition under way: two months before today
        term_years=3,
    ),
)

PEOPLE = (
    DemoPerson(
        "sponsor@riverside.example",
        "Angela Brooks",
        "Chief Information Officer",
        "Riverside Health",
        (("riverside", Role.SPONSOR),),
        organization_admin=True,
    ),
    DemoPerson(
        "itlead@riverside.example",
        "Marcus Chen",
        "Director, IT Vendor Management Office",
        "Riverside Health",
        (("riverside", Role.IT_LEAD),),
        organization_admin=True,
    ),
    DemoPerson(
        "itstaff@riverside.example",
        "Priya Raman",
        "Senior Clinical Applications Analyst",
        "Riverside Health",
        (("riverside", Role.IT_STAFF),),
    ),
    DemoPerson(
        "auditor@riverside.example",
        "Daniel Okafor",
        "Internal Audit and Compliance Manager",
        "Riverside Health",
        (("riverside", Role.OBSERVER),),
    ),
    DemoPerson(
        "lead@northwind.example",
        "Sarah Lindqvist",
        "Engagement Director, Hospital Managed Services",
        "Northwind Health IT",
        (("riverside", Role.VENDOR_LEAD),),
    ),
    DemoPerson(
        "staff@northwind.example",
        "Tom Becker",
        "Service Desk Team Lead",
        "Northwind Health IT",
        (("riverside", Role.VENDOR_STAFF),),
    ),
    DemoPerson(
        "admin@lakeside.example",
        "Jennifer Walsh",
        "Practice Administrator",
        "Lakeside Family Medicine",
        (("lakeside", Role.SPONSOR), ("lakeside", Role.IT_LEAD)),
        organization_admin=True,
    ),
    DemoPerson(
        "lead@harbor.example",
        "Luis Ortega",
        "Client Services Manager",
        "Harbor Managed IT",
        (("lakeside", Role.VENDOR_LEAD),),
    ),
    DemoPerson(
        "admin@tandem.example",
        "Tandem Administrator",
        "Platform administrator",
        None,
        platform_admin=True,
    ),
)
