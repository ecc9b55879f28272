"""Service levels: the engagement's SLA policy (versioned), the runs that measure tickets
against it, and what a run stores: per-ticket measurements, aggregates and service credits.

A policy version is the TOML text of ``tandem.analytics.policy`` plus the first day of the
month it takes effect. Once a run has used a version, the version is frozen (a number shown to
a board must be reproducible from the policy that produced it): changing the contract means
adding a version. Runs are records of what happened (``writable = False``); their
measurements, aggregates and credits are bulk rows (audited once per run, on the run).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from tandem.analytics.policy import Policy, PolicyError, parse_policy
from tandem.core.models import EngagementBulkModel, EngagementScopedModel
from tandem.service.choices import (
    AggregateLevel,
    AsOfBasis,
    MeasuredSide,
    Metric,
    Priority,
    RunStatus,
)
from tandem.service.models.tickets import Ticket

#: Goals and shares: 0.95 stored as written (six places), never a binary float.
SHARE = {"max_digits": 7, "decimal_places": 6}
MONEY = {"max_digits": 14, "decimal_places": 2}


def validate_policy_source(text: str) -> None:
    """The TOML must be a usable policy; the message names the key, e.g. ``targets[2].within``."""
    try:
        parse_policy(text)
    except PolicyError as exc:
        raise ValidationError(str(exc), code="policy") from exc


def validate_first_of_month(value: object) -> None:
    if getattr(value, "day", 1) != 1:
        raise ValidationError(
            "A policy takes effect on the first day of a month, so each month is measured "
            "against one set of goals.",
            code="first_of_month",
        )


class SlaPolicy(EngagementScopedModel):
    """One version of the engagement's service-level policy: calendars, targets, goals, pause
    rules and credit terms (TOML), in force from ``effective_from`` until the next version."""

    # Terms: how a party is measured. Only the client's sponsor and IT lead change them.
    scope_area = "terms"

    version = models.PositiveIntegerField(help_text="1, 2, 3… in the order they were added.")
    name = models.CharField(max_length=200, help_text='E.g. "MSA schedule B, amendment 2".')
    effective_from = models.DateField(
        validators=[validate_first_of_month],
        help_text="First day of the month (engagement time zone) this version applies from.",
    )
    source = models.TextField(
        validators=[validate_policy_source],
        help_text="The policy in TOML: [calendars.*], [[targets]] and optional [credits].",
    )
    note = models.TextField(blank=True, help_text="Why this version: the amendment, who agreed.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sla_policies",
    )

    class Meta:
        ordering = ["engagement", "effective_from"]
        verbose_name = "SLA policy version"
        verbose_name_plural = "SLA policy versions"
        constraints = [
            models.UniqueConstraint(
                fields=["engagement", "version"], name="%(app_label)s_%(class)s_unique_version"
            ),
            # Two versions starting the same day would make "the policy in force" ambiguous.
            models.UniqueConstraint(
                fields=["engagement", "effective_from"],
                name="%(app_label)s_%(class)s_one_version_per_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version}, from {self.effective_from:%Y-%m-%d})"

    def get_absolute_url(self) -> str:
        return reverse("service:slapolicy_detail", args=[self.pk])

    def parsed(self) -> Policy:
        return parse_policy(self.source)

    @property
    def is_frozen(self) -> bool:
        """Used by a run: its numbers must stay reproducible, so it can no longer change."""
        return self.pk is not None and self.runs.exists()


class SlaRun(EngagementScopedModel):
    """One measurement of the engagement's tickets against its policy versions, as of an
    instant: a background task; what it stored hangs off it. Runs are numbered per
    engagement (``number``: "Run #3"), in the order they were created."""

    number = models.PositiveIntegerField(
        help_text="1, 2, 3… per engagement, in the order the runs were started."
    )
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    as_of = models.DateTimeField(
        default=timezone.now, help_text="Open clocks are measured up to this instant (UTC)."
    )
    as_of_basis = models.CharField(
        max_length=12,
        choices=AsOfBasis.choices,
        default=AsOfBasis.GIVEN,
        help_text="Why this as-of instant: typed by whoever started the run, the moment it "
        "started, or the last event of the imported tickets (an historical export).",
    )
    time_zone = models.CharField(
        max_length=64, help_text="The engagement's time zone when the run started (months)."
    )
    policies = models.ManyToManyField(SlaPolicy, related_name="runs", blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sla_runs",
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress = models.ForeignKey(
        "core.Progress", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tickets_measured = models.PositiveIntegerField(default=0)
    tickets_not_measured = models.PositiveIntegerField(
        default=0, help_text="Opened before the first policy version took effect, or no priority."
    )
    measurements_count = models.PositiveIntegerField(default=0)
    breaches_count = models.PositiveIntegerField(default=0)
    at_risk_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    side_totals = models.JSONField(
        default=list,
        blank=True,
        help_text=(
            "The whole run's stopped clocks per metric, priority and side (client team, "
            "vendor): count, met and median seconds. The parity page's whole-period rows; the "
            "months are the side-level aggregates."
        ),
    )

    # A record of what happened: started by the service, never edited through the UI or API.
    writable = False

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = "SLA run"
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True) | Q(finished_at__gte=F("started_at")),
                name="%(app_label)s_%(class)s_finishes_after_start",
            ),
            # "Run #3" names one run of the engagement; two runs created at once race for
            # the same number and the loser retries (``sla_runs.create_run``).
            models.UniqueConstraint(
                fields=["engagement", "number"], name="%(app_label)s_%(class)s_unique_number"
            ),
        ]
        indexes = [
            # "The latest finished run" of an engagement: every dashboard page asks it.
            models.Index(
                fields=["engagement", "status", "-started_at"], name="service_slarun_latest"
            ),
        ]

    def __str__(self) -> str:
        return f"Run #{self.number}"

    def get_absolute_url(self) -> str:
        return reverse("service:slarun_detail", args=[self.pk])

    @property
    def label(self) -> str:
        """How pages name the run: "Run #3" (numbered per engagement, never the global id)."""
        return f"Run #{self.number}"

    @classmethod
    def latest_for(cls, engagement_id: int) -> SlaRun | None:
        """The engagement's latest finished run: the one the dashboards show. The caller has
        checked the user may see the engagement (every party sees its runs)."""
        return (
            cls.objects.filter(engagement_id=engagement_id, status=RunStatus.DONE)
            .order_by("-started_at", "-pk")
            .first()
        )


class SlaMeasurement(EngagementBulkModel):
    """One ticket × metric of a run: business seconds elapsed against the target, and whether
    it was met. ``month`` is the month its clock stopped (null: still open at ``as_of``)."""

    run = models.ForeignKey(SlaRun, on_delete=models.CASCADE, related_name="measurements")
    # No index of its own: reached through the run (the run's indexes lead with run).
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="measurements", db_index=False
    )
    ticket_number = models.CharField(max_length=100, help_text="The tool's number, as imported.")
    metric = models.CharField(max_length=10, choices=Metric.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)
    assignment_group = models.CharField(max_length=200, blank=True)
    side = models.CharField(max_length=10, choices=MeasuredSide.choices)
    month = models.DateField(null=True, blank=True)
    policy_version = models.PositiveIntegerField()
    elapsed_seconds = models.BigIntegerField()
    target_seconds = models.BigIntegerField()
    met = models.BooleanField()

    class Meta:
        ordering = ["run", "ticket_number", "metric"]
        verbose_name = "SLA measurement"
        constraints = [
            models.UniqueConstraint(
                fields=["run", "ticket", "metric"], name="%(app_label)s_%(class)s_one_per_clock"
            ),
        ]
        indexes = [
            # Drill-down from an aggregate row to its tickets, and the parity/breach filters.
            models.Index(
                fields=["run", "month", "metric", "priority", "side"],
                name="service_slameasurement_cell",
            ),
            # The breach list (met = false) and the at-risk list (open clocks).
            models.Index(fields=["run", "met", "month"], name="service_slameasurement_met"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_number} {self.metric}"

    def get_absolute_url(self) -> str:
        return reverse("service:slameasurement_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.month is None

    @property
    def overrun_seconds(self) -> int:
        return self.elapsed_seconds - self.target_seconds


class SlaAggregate(EngagementBulkModel):
    """Count, met, goal, median and p90 of the stopped clocks of one cell (month × metric ×
    priority, and group and side as ``level`` says). Attainment is ``met / count``."""

    run = models.ForeignKey(SlaRun, on_delete=models.CASCADE, related_name="aggregates")
    level = models.CharField(max_length=10, choices=AggregateLevel.choices)
    month = models.DateField()
    metric = models.CharField(max_length=10, choices=Metric.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)
    assignment_group = models.CharField(
        max_length=200, blank=True, help_text="Only on group-level rows."
    )
    side = models.CharField(
        max_length=10, choices=MeasuredSide.choices, blank=True, help_text="Group and side rows."
    )
    count = models.PositiveIntegerField()
    met = models.PositiveIntegerField()
    goal = models.DecimalField(**SHARE, null=True, blank=True)
    median_seconds = models.BigIntegerField()
    p90_seconds = models.BigIntegerField()

    class Meta:
        ordering = ["run", "level", "month", "metric", "priority", "side", "assignment_group"]
        verbose_name = "SLA aggregate"
        constraints = [
            models.CheckConstraint(
                condition=Q(met__lte=F("count")), name="%(app_label)s_%(class)s_met_within_count"
            ),
        ]
        indexes = [
            # Dashboards read one run's rows of one level, by month.
            models.Index(fields=["run", "level", "month"], name="service_slaaggregate_level"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.priority} {self.metric}: {self.met}/{self.count}"

    def get_absolute_url(self) -> str:
        return reverse("service:slaaggregate_detail", args=[self.pk])

    @property
    def attainment(self) -> float:
        return self.met / self.count if self.count else 0.0

    @property
    def missed_goal(self) -> bool:
        """Below goal, exactly: met / count < goal compared as fractions (met < goal × count)."""
        return self.goal is not None and self.met < self.goal * self.count


class ServiceCredit(EngagementBulkModel):
    """One credit line of a run: a month × target below goal (or met: ``credit`` 0), the
    pool-model amount, the cap, earn-back and what is due (``tandem.analytics.credits``)."""

    run = models.ForeignKey(SlaRun, on_delete=models.CASCADE, related_name="credits")
    month = models.DateField()
    metric = models.CharField(max_length=10, choices=Metric.choices)
    priority = models.CharField(max_length=2, choices=Priority.choices)
    policy_version = models.PositiveIntegerField()
    count = models.PositiveIntegerField()
    met = models.PositiveIntegerField()
    goal = models.DecimalField(**SHARE)
    missed = models.BooleanField()
    allocation_percent = models.DecimalField(max_digits=7, decimal_places=4)
    currency = models.CharField(max_length=3)
    credit = models.DecimalField(**MONEY)
    capped = models.DecimalField(**MONEY, help_text="The credit after the month's pool cap.")
    earn_back_until = models.DateField(null=True, blank=True)
    earned_back = models.BooleanField(default=False)
    due = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["run", "month", "priority", "metric"]
        verbose_name = "service credit"
        constraints = [
            models.UniqueConstraint(
                fields=["run", "month", "metric", "priority"],
                name="%(app_label)s_%(class)s_one_line_per_target_month",
            ),
            models.CheckConstraint(
                condition=Q(due__lte=F("capped")) & Q(capped__lte=F("credit")),
                name="%(app_label)s_%(class)s_due_within_credit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.priority} {self.metric}: {self.due} {self.currency}"

    def get_absolute_url(self) -> str:
        return reverse("service:servicecredit_detail", args=[self.pk])
