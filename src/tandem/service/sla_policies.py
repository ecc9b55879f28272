"""Writing SLA policy versions: add, change, delete, each in one transaction.

Versions are numbered here (the engagement's highest number plus one), never by the caller.
A version an SLA run has used is frozen (``SlaPolicy.is_frozen``): changing or deleting it
raises ``PolicyFrozen``; a contract amendment is a new version. The audit trail is written
by the model signals inside the same transaction (``SlaPolicy`` is an engagement record).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from tandem.core.access import can, can_add
from tandem.core.choices import Action
from tandem.core.models import Engagement, User
from tandem.core.services import NotAllowed
from tandem.service.models import SlaPolicy

#: The largest policy file the upload accepts: a policy is a page of TOML, not a data set.
MAX_POLICY_BYTES = 256 * 1024

#: The fields of a version that people edit (``version`` and ``engagement`` are fixed).
EDITABLE = ("name", "effective_from", "source", "note")


class PolicyFrozen(ValueError):
    """The version has been used by an SLA run and can no longer change."""


def frozen_message(policy: SlaPolicy) -> str:
    run = policy.runs.order_by("started_at", "pk").first()
    used = f"SLA {run.label}" if run is not None else "an SLA run"
    return (
        f"Version {policy.version} is frozen: {used} used it, and its numbers must stay "
        "reproducible. Add a new version (from the first of a later month) instead."
    )


def next_version(engagement: Engagement) -> int:
    highest = SlaPolicy.objects.filter(engagement=engagement).aggregate(v=Max("version"))["v"]
    return (highest or 0) + 1


def latest_version(engagement: Engagement) -> SlaPolicy | None:
    """The version added last (the highest number): what a new version starts from."""
    return SlaPolicy.objects.filter(engagement=engagement).order_by("-version").first()


def default_effective_from(engagement: Engagement) -> date:
    """Where a new version starts unless told otherwise (always the first of a month).

    The first version: the month the engagement starts (today's, when it has no start date),
    so its first tickets are measured. A later one: the month that contains today in the
    engagement's time zone, or the first month after it that no version starts in yet.
    """
    taken = set(
        SlaPolicy.objects.filter(engagement=engagement).values_list("effective_from", flat=True)
    )
    if not taken:
        return (engagement.start_date or local_today(engagement)).replace(day=1)
    month = local_today(engagement).replace(day=1)
    while month in taken:
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return month


def in_force(engagement: Engagement, day: date | None = None) -> SlaPolicy | None:
    """The version in force on ``day`` (default: today in the engagement's time zone)."""
    day = day or local_today(engagement)
    return (
        SlaPolicy.objects.filter(engagement=engagement, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )


def local_today(engagement: Engagement) -> date:
    return timezone.now().astimezone(ZoneInfo(engagement.time_zone)).date()


def add_policy_version(
    *,
    engagement: Engagement,
    user: User | None,
    name: str,
    effective_from: date,
    source: str,
    note: str = "",
) -> SlaPolicy:
    """A new version of ``engagement``'s policy, numbered after the last one.

    Validation (TOML with the key named, first of the month, one version per start date)
    raises Django's ``ValidationError`` with the field named.
    """
    if user is not None and not can_add(user, SlaPolicy, engagement):
        raise NotAllowed("Your role in this engagement may not add SLA policy versions.")
    with transaction.atomic():
        policy = SlaPolicy(
            engagement=engagement,
            version=next_version(engagement),
            name=name,
            effective_from=effective_from,
            source=source,
            note=note,
            created_by=user,
        )
        policy.full_clean()
        policy.save()
    return policy


def change_policy_version(*, policy: SlaPolicy, user: User | None, **fields: Any) -> SlaPolicy:
    """Change the name, start, TOML or note of a version nobody has used yet."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))} of a policy version")
    if user is not None and not can(user, Action.CHANGE, policy):
        raise NotAllowed("Your role in this engagement may not change SLA policy versions.")
    with transaction.atomic():
        if policy.is_frozen:
            raise PolicyFrozen(frozen_message(policy))
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.full_clean()
        policy.save()
    return policy


def delete_policy_version(*, policy: SlaPolicy, user: User | None) -> None:
    """Delete a version nobody has used yet."""
    if user is not None and not can(user, Action.DELETE, policy):
        raise NotAllowed("Your role in this engagement may not delete SLA policy versions.")
    with transaction.atomic():
        if policy.is_frozen:
            raise PolicyFrozen(frozen_message(policy))
        policy.delete()


def download_name(policy: SlaPolicy) -> str:
    """``sla-policy-<engagement>-v<version>.toml``, safe as a file name."""
    from django.utils.text import slugify

    name = slugify(policy.engagement.name) or str(policy.engagement_id)
    return f"sla-policy-{name}-v{policy.version}.toml"
