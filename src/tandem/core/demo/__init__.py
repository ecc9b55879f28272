"""The demo: a health system and a practice, each with an IT partner, one person per role.

``load_demo()`` is idempotent: it finds everything by its natural key (organization name,
engagement client and name, user e-mail, the engagement-user-role triple) and creates only
what is missing, so running ``tandem demo`` twice duplicates nothing. Every write is made
inside one transaction and attributed to "tandem demo" in the audit trail.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.utils import timezone

from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource, Role, Side
from tandem.core.demo.data import (
    ENGAGEMENTS,
    ORGANIZATIONS,
    PASSWORD,
    PEOPLE,
    URL,
    DemoEngagement,
    DemoOrganization,
    DemoPerson,
)
from tandem.core.models import Engagement, EngagementParty, Organization, RoleAssignment, User
from tandem.core.services import add_party, assign_role, create_engagement

__all__ = ["PASSWORD", "URL", "Login", "load_demo"]

ACTOR = "tandem demo"


@dataclass(frozen=True)
class Login:
    """One line of the printed logins table."""

    email: str
    name: str
    role: str
    engagement: str


@dataclass(frozen=True)
class DemoSummary:
    created: int
    logins: list[Login]


def load_demo() -> DemoSummary:
    """Create whatever part of the demo is missing; return the logins to print."""
    with audit_context(source=AuditSource.COMMAND, user_name=ACTOR), transaction.atomic():
        counter = _Counter()
        organizations = {spec.name: counter.organization(spec) for spec in ORGANIZATIONS}
        people = {spec.email: counter.person(spec, organizations) for spec in PEOPLE}
        admin = next(people[spec.email] for spec in PEOPLE if spec.platform_admin)
        engagements = {
            spec.key: counter.engagement(spec, organizations, admin) for spec in ENGAGEMENTS
        }
        for spec in PEOPLE:
            for key, role in spec.roles:
                counter.role(engagements[key], people[spec.email], role)
    return DemoSummary(created=counter.created, logins=_logins(engagements))


class _Counter:
    """Get-or-create by natural key, counting what was created."""

    def __init__(self) -> None:
        self.created = 0

    def organization(self, spec: DemoOrganization) -> Organization:
        organization = Organization.objects.filter(name=spec.name).first()
        if organization is None:
            organization = Organization(
                name=spec.name,
                kind=spec.kind,
                time_zone=spec.time_zone,
                size=spec.size,
                size_unit=spec.size_unit,
                website=spec.website,
                notes=spec.notes,
            )
            organization.full_clean()
            organization.save()
            self.created += 1
        return organization

    def person(self, spec: DemoPerson, organizations: dict[str, Organization]) -> User:
        user = User.objects.filter(email=spec.email).first()
        if user is None:
            # The password is set only here: a demo user who changed it keeps the new one.
            user = User.objects.create_user(
                spec.email,
                PASSWORD,
                full_name=spec.full_name,
                job_title=spec.job_title,
                organization=organizations[spec.organization] if spec.organization else None,
                is_staff=spec.platform_admin,
                is_superuser=spec.platform_admin,
                may_open_engagements=spec.organization_admin,
            )
            self.created += 1
        elif spec.organization_admin and not user.may_open_engagements:
            # A demo loaded before the right existed: its organization administrators get it.
            user.may_open_engagements = True
            user.save(update_fields=["may_open_engagements", "last_updated"])
            self.created += 1
        return user

    def engagement(
        self, spec: DemoEngagement, organizations: dict[str, Organization], admin: User
    ) -> Engagement:
        client = organizations[spec.client]
        engagement = Engagement.objects.filter(client=client, name=spec.name).first()
        if engagement is None:
            start = (
                spec.start
                if isinstance(spec.start, date)
                else _months_before(timezone.localdate(), spec.start)
            )
            engagement = create_engagement(
                actor=admin,
                engagement=Engagement(
                    name=spec.name,
                    client=client,
                    kind=spec.kind,
                    phase=spec.phase,
                    time_zone=spec.time_zone,
                    currency=spec.currency,
                    start_date=start,
                    end_date=_years_after(start, spec.term_years),
                    description=spec.description,
                ),
            )
            self.created += 1
        client_party = EngagementParty.objects.filter(
            engagement=engagement, organization=client
        ).first()
        if client_party is None:
            add_party(
                engagement=engagement,
                organization=client,
                side=Side.CLIENT,
                scope_summary=spec.client_scope,
            )
            self.created += 1
        elif not client_party.scope_summary:
            client_party.scope_summary = spec.client_scope
            client_party.save()
        for vendor_name, scope in spec.vendors:
            vendor = organizations[vendor_name]
            if not EngagementParty.objects.filter(
                engagement=engagement, organization=vendor
            ).exists():
                add_party(
                    engagement=engagement,
                    organization=vendor,
                    side=Side.VENDOR,
                    scope_summary=scope,
                )
                self.created += 1
        return engagement

    def role(self, engagement: Engagement, user: User, role: str) -> None:
        if not RoleAssignment.objects.filter(engagement=engagement, user=user, role=role).exists():
            assign_role(engagement=engagement, user=user, role=role)
            self.created += 1


def _months_before(day: date, months: int) -> date:
    """The first of the month ``months`` before ``day``'s month (a tidy contract start)."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _years_after(day: date, years: int) -> date:
    """The day before the ``years``-th anniversary: a five-year term ends on its eve."""
    year = day.year + years
    anniversary = date(year, day.month, min(day.day, calendar.monthrange(year, day.month)[1]))
    return date.fromordinal(anniversary.toordinal() - 1)


def _logins(engagements: dict[str, Engagement]) -> list[Login]:
    logins = []
    for spec in PEOPLE:
        if spec.platform_admin:
            logins.append(
                Login(spec.email, spec.full_name, "Platform administrator", "all engagements")
            )
            continue
        roles = " + ".join(str(Role(role).label) for _, role in spec.roles)
        if spec.organization_admin:
            roles += " (opens engagements)"
        names = sorted({engagements[key].name for key, _ in spec.roles})
        logins.append(Login(spec.email, spec.full_name, roles, ", ".join(names)))
    return logins
