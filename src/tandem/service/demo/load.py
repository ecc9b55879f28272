"""Loading Riverside's service levels into the demo database: assignment-group sides, the
policy versions, the tickets (one import) and one SLA run, so the dashboards open full.

Idempotent by natural key: a group side by its name, a policy version by its number or start
date, the tickets by the demo import's file name (``scenario.FILE_NAME``; once it exists,
the tickets are left alone, whatever was edited since), the run by the existence of a
finished run. A second ``tandem demo`` adds nothing and writes no audit record.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.db import transaction

from tandem.core.audit import audit_context
from tandem.core.choices import AuditSource, Role
from tandem.core.demo.data import ENGAGEMENTS, PEOPLE
from tandem.core.models import Engagement, Organization, User
from tandem.service.choices import GroupSide, ImportFormat, RunStatus
from tandem.service.demo import scenario
from tandem.service.demo.tickets import generate
from tandem.service.models import AssignmentGroupSide, ImportBatch, SlaPolicy, SlaRun
from tandem.service.services import import_tickets
from tandem.service.sla_runs import RunRefused, create_run, execute_run

Write = Callable[[str], None]

ACTOR = "tandem demo"
#: Tickets loaded when the test suite runs ``tandem demo`` (enough to fill every page).
TESTING_TICKETS = 1_000


def default_ticket_count() -> int:
    """150,000, or a thousand under the test suite (which runs the demo again and again)."""
    return TESTING_TICKETS if getattr(settings, "TESTING", False) else scenario.TICKETS


def load_service_demo(*, tickets: int | None = None, write: Write | None = None) -> int:
    """Add whatever part of Riverside's service-level demo is missing; return how many
    records were created (0: it was all there). ``write`` receives progress lines."""
    say = write or (lambda line: None)
    engagement = _riverside()
    if engagement is None:
        say("Riverside engagement not found: service-level demo skipped.")
        return 0
    with audit_context(source=AuditSource.COMMAND, user_name=ACTOR):
        with transaction.atomic():
            created = _groups(engagement) + _policies(engagement)
        created += _tickets(engagement, tickets or default_ticket_count(), say)
        created += _run(engagement, say)
    return created


def _riverside() -> Engagement | None:
    spec = next(e for e in ENGAGEMENTS if e.key == "riverside")
    return Engagement.objects.filter(client__name=spec.client, name=spec.name).first()


def _groups(engagement: Engagement) -> int:
    vendor = Organization.objects.get(name=scenario.VENDOR)
    created = 0
    for name, side, _ in scenario.GROUPS:
        if AssignmentGroupSide.objects.filter(
            engagement=engagement, assignment_group=name
        ).exists():
            continue
        row = AssignmentGroupSide(
            engagement=engagement,
            assignment_group=name,
            side=GroupSide.VENDOR if side == "vendor" else GroupSide.CLIENT,
            vendor=vendor if side == "vendor" else None,
        )
        row.full_clean()
        row.save()
        created += 1
    return created


def _policies(engagement: Engagement) -> int:
    author = _it_lead()
    created = 0
    for version, name, effective_from, source in scenario.POLICIES:
        taken = SlaPolicy.objects.filter(engagement=engagement).filter(
            version=version
        ) | SlaPolicy.objects.filter(engagement=engagement, effective_from=effective_from)
        if taken.exists():
            continue
        policy = SlaPolicy(
            engagement=engagement,
            version=version,
            name=name,
            effective_from=effective_from,
            source=source,
            note=scenario.POLICY_NOTE,
            created_by=author,
        )
        policy.full_clean()
        policy.save()
        created += 1
    return created


def _tickets(engagement: Engagement, count: int, say: Write) -> int:
    if ImportBatch.objects.filter(engagement=engagement, file_name=scenario.FILE_NAME).exists():
        return 0
    started = time.perf_counter()
    say(f"Generating {count:,} demo tickets for Riverside (May 2025 to October 2026)…")
    frames = generate(count)
    say(
        f"  {frames.tickets.height:,} tickets, {frames.holds.height:,} holds in "
        f"{time.perf_counter() - started:.1f} s; importing…"
    )
    shown = [-1]

    def progress(percent: int, message: str) -> None:
        if percent // 20 > shown[0] and percent < 100:  # every fifth of the way
            shown[0] = percent // 20
            say(f"  {percent:3d}% {message}")

    batch = import_tickets(
        engagement=engagement,
        actor=None,
        tickets=frames.tickets,
        holds=frames.holds,
        file_name=scenario.FILE_NAME,
        format=ImportFormat.SERVICENOW,
        time_zone=scenario.TIME_ZONE,
        progress=progress,
    )
    say(
        f"  imported {batch.tickets_created:,} tickets and {batch.holds_imported:,} holds in "
        f"{time.perf_counter() - started:.1f} s"
    )
    return 1


def _run(engagement: Engagement, say: Write) -> int:
    """One SLA run as of the end of the window, when none has finished yet."""
    if SlaRun.objects.filter(engagement=engagement, status=RunStatus.DONE).exists():
        return 0
    started = time.perf_counter()
    say(f"Measuring Riverside's service levels as of {scenario.AS_OF:%Y-%m-%d %H:%M} UTC…")
    try:
        run = create_run(engagement=engagement, user=_it_lead(), as_of=scenario.AS_OF)
    except RunRefused as exc:
        say(f"SLA run skipped: {exc}")
        return 0

    shown = [-1]

    def progress(percent: int, message: str) -> None:
        if percent // 10 > shown[0] and percent < 100:  # every tenth of the way
            shown[0] = percent // 10
            say(f"  {percent:3d}% {message}")

    run = execute_run(run, report=progress)
    if run.status != RunStatus.DONE:
        say(f"  SLA {run.label} failed: {run.error}")
        return 1
    say(
        f"  SLA {run.label}: {run.tickets_measured:,} tickets, {run.measurements_count:,} "
        f"clocks, {run.breaches_count:,} breaches in {time.perf_counter() - started:.1f} s"
    )
    return 1


def _it_lead() -> User | None:
    email = next(p.email for p in PEOPLE if ("riverside", Role.IT_LEAD) in p.roles)
    return User.objects.filter(email=email).first()
