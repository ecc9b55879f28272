"""Fixed choices of the contracts app."""

from __future__ import annotations

from django.db import models

from tandem.analytics.contract_charges import PricingModel as _Pricing


class ContractKind(models.TextChoices):
    MASTER = "master", "Master agreement"
    SOW = "sow", "Statement of work"
    BAA = "baa", "Business associate agreement"
    AMENDMENT = "amendment", "Amendment"
    TSA = "tsa", "Transition services agreement"


class RenewalType(models.TextChoices):
    NONE = "none", "No renewal"
    AUTOMATIC = "automatic", "Automatic (unless notice is given)"
    NOTICE = "notice", "By notice or mutual agreement"


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEGOTIATION = "negotiation", "Negotiation"
    SIGNED = "signed", "Signed"
    ACTIVE = "active", "Active"
    EXPIRING = "expiring", "Expiring"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"


S = ContractStatus
# Where a contract may move from each status. "Active" is reached only through the
# activation action (its own guarded step: agreed service levels, a signed BAA when the
# vendor handles PHI), never by editing the status; expired and terminated are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.NEGOTIATION, S.SIGNED, S.TERMINATED}),
    S.NEGOTIATION: frozenset({S.DRAFT, S.SIGNED, S.TERMINATED}),
    S.SIGNED: frozenset({S.TERMINATED}),
    S.ACTIVE: frozenset({S.EXPIRING, S.EXPIRED, S.TERMINATED}),
    S.EXPIRING: frozenset({S.ACTIVE, S.EXPIRED, S.TERMINATED}),
    S.EXPIRED: frozenset(),
    S.TERMINATED: frozenset(),
}
# Reached only by the activation action (the edit form and ``move_to`` never offer it).
ACTIVATION_ONLY = frozenset({S.ACTIVE})
# A contract in one of these is over: nothing amends it any more.
ENDED = frozenset({S.EXPIRED, S.TERMINATED})


class ScopeCategory(models.TextChoices):
    DESK_TIER_1 = "desk_tier_1", "Service desk tier 1"
    DESK_TIER_2 = "desk_tier_2", "Service desk tier 2"
    DESK_TIER_3 = "desk_tier_3", "Service desk tier 3"
    APPLICATION = "application", "Application management"
    LEGACY = "legacy", "Legacy support"
    COMMAND_CENTER = "command_center", "Go-live command center"
    AT_THE_ELBOW = "at_the_elbow", "Go-live at-the-elbow"
    INFRASTRUCTURE = "infrastructure", "Infrastructure & network"
    SECURITY = "security", "Security operations"
    OTHER = "other", "Other"


class PricingModel(models.TextChoices):
    FIXED_MONTHLY = _Pricing.FIXED_MONTHLY.value, "Fixed monthly"
    PER_TICKET = _Pricing.PER_TICKET.value, "Per ticket"
    PER_USER = _Pricing.PER_USER.value, "Per user per month"
    PER_DEVICE = _Pricing.PER_DEVICE.value, "Per device per month"
    HOURLY = _Pricing.HOURLY.value, "Hourly"
    MILESTONE = _Pricing.MILESTONE.value, "Milestone"
