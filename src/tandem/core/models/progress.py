"""Progress of long-running work, updated by tasks and polled by pages."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from tandem.core.access import engagement_ids_for
from tandem.core.choices import Action, ProgressState


class ProgressQuerySet(models.QuerySet):
    def restrict(self, user: Any, action: str = Action.VIEW) -> Any:
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_staff:
            return self
        return self.filter(
            Q(owner_id=user.pk)
            | Q(engagement__in=engagement_ids_for(user, "records", Action.VIEW), owner_only=False)
        )


class Progress(models.Model):
    """One piece of background work: its state, percent done, message, result or error."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=60)
    label = models.CharField(max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    engagement = models.ForeignKey(
        "core.Engagement", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    owner_only = models.BooleanField(default=True)
    state = models.CharField(
        max_length=10, choices=ProgressState.choices, default=ProgressState.QUEUED
    )
    percent = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    # What ran, so that a failed piece of work can be started again ("retry").
    task_name = models.CharField(max_length=200, blank=True)
    arguments = models.JSONField(default=dict, blank=True)
    # The lease: a running task writes its heartbeat every few seconds; a row whose heartbeat
    # is older than the lease belongs to a worker that died and is marked failed.
    heartbeat = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True, help_text="host:pid of the worker.")
    created = models.DateTimeField(auto_now_add=True)
    last_updated = models.DateTimeField(auto_now=True)

    objects = ProgressQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = "progress"
        verbose_name_plural = "progress records"
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__lte=100), name="%(app_label)s_%(class)s_percent_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.get_state_display()} {self.percent}%"

    def get_absolute_url(self) -> str:
        return reverse("progress:detail", args=[self.pk])

    @property
    def finished(self) -> bool:
        return self.state in {ProgressState.SUCCEEDED, ProgressState.FAILED}

    def update(self, *, percent: int | None = None, message: str | None = None) -> None:
        """Record progress from inside a task (a short write of its own).

        Inside ``run_with_progress`` in a worker, a heartbeat thread keeps the row alive
        (``tandem.core.tasks_recovery.Heartbeat``). On PostgreSQL the progress goes through
        its connection: it shows at once, even while the work holds a transaction open, and
        that transaction never locks this row. On SQLite (one writer at a time) it is written
        here with a fresh heartbeat, which commits with the work's transaction.
        """
        self.state = ProgressState.RUNNING
        if percent is not None:
            self.percent = max(0, min(100, int(percent)))
        if message is not None:
            self.message = message[:300]
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None and heartbeat.report(self.percent, self.message):
            return
        self.last_updated = timezone.now()
        values: dict[str, Any] = {"state": self.state, "last_updated": self.last_updated}
        if percent is not None:
            values["percent"] = self.percent
        if message is not None:
            values["message"] = self.message
        if heartbeat is not None:
            self.heartbeat = values["heartbeat"] = self.last_updated
        # Never brings ended work back (a late report from a thread the work left behind).
        Progress.objects.filter(
            pk=self.pk, state__in=[ProgressState.QUEUED, ProgressState.RUNNING]
        ).update(**values)

    @property
    def retry_refusal(self) -> Any:
        """Why this failed work cannot be tried again (a ``Refusal``), or None: it can."""
        from tandem.core.tasks_recovery import retry_refusal

        return retry_refusal(self)
