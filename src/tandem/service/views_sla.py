"""Pages of SLA policy versions and SLA runs.

Policy versions are edited like any engagement record (typed, or uploaded as TOML) until a
run uses them; then they are frozen and the edit and delete pages refuse with the reason.
Runs are started with "Run now" (``can_add`` on runs: not observers) and followed on their
own page, whose progress card htmx polls until the run ends.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views import View
from django.views.decorators.http import require_GET, require_POST

from tandem.analytics.calendar import WEEKDAYS, BusinessCalendar
from tandem.analytics.policy import Policy, PolicyError
from tandem.core.access import can, can_add
from tandem.core.choices import Action
from tandem.core.models import Engagement
from tandem.core.services import NotAllowed
from tandem.core.tasks_recovery import reap_dead_work
from tandem.core.views.generic import (
    EngagementMixin,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)
from tandem.service import sla_policies, sla_runs
from tandem.service.choices import RunStatus
from tandem.service.filtersets_sla import SlaPolicyFilterSet, SlaRunFilterSet
from tandem.service.forms_sla import SlaPolicyForm, SlaPolicyUploadForm, StartRunForm
from tandem.service.models import SlaPolicy, SlaRun
from tandem.service.tables_sla import SlaPolicyTable, SlaRunTable, duration

# Room for the form fields and multipart framing around the file.
_REQUEST_SLACK = 64 * 1024


# Shown values ---------------------------------------------------------------------------------


def human_seconds(seconds: int) -> str:
    """``14400`` -> ``4 h``, ``900`` -> ``15 min``, ``5400`` -> ``1 h 30 min``, ``90`` -> ``90 s``
    (the policy's ``within`` as people say it; whole seconds only when not whole minutes)."""
    if seconds % 60:
        return f"{seconds:,} s"
    hours, minutes = divmod(seconds // 60, 60)
    parts = [f"{hours:,} h"] if hours else []
    if minutes:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "0 s"


def _percent(value: Any) -> str:
    if value is None:
        return "—"
    text = f"{float(value) * 100:.4f}".rstrip("0").rstrip(".")
    return f"{text} %"


def policy_summary(policy: Policy) -> dict[str, Any]:
    """What the detail page shows of a parsed policy: targets, calendars, credit terms."""
    targets = [
        {
            "priority": t.priority,
            "metric": t.metric,
            "calendar": t.calendar,
            "within": human_seconds(t.within_seconds),
            "within_seconds": t.within_seconds,
            "pause_on_hold": t.pause_on_hold,
            "goal": _percent(t.goal),
            "allocation": (
                f"{t.credit_allocation_percent} %"
                if t.credit_allocation_percent is not None
                else "—"
            ),
            "earn_back": (
                f"waived if the next {t.earn_back_months} month(s) reach "
                f"{_percent(t.earn_back_goal)}"
                if t.earn_back_months
                else ""
            ),
        }
        for t in policy.targets
    ]
    return {
        "targets": targets,
        "calendars": [_calendar(name, c) for name, c in policy.calendars.items()],
        "credits": policy.credits,
    }


def _calendar(name: str, calendar: BusinessCalendar) -> dict[str, Any]:
    always = all(len(day) == 1 and str(day[0]) == "00:00-24:00" for day in calendar.weekly)
    days = [
        {"day": day, "windows": ", ".join(str(w) for w in windows) or "closed"}
        for day, windows in zip(WEEKDAYS, calendar.weekly, strict=True)
    ]
    country = calendar.holiday_country or ""
    if country and calendar.holiday_subdivision:
        country += f"-{calendar.holiday_subdivision}"
    return {
        "name": name,
        "timezone": calendar.timezone,
        "always": always,
        "days": days,
        "holidays": sorted(calendar.holidays),
        "country": country,
    }


# Policy versions ------------------------------------------------------------------------------


def policy_rows(queryset: QuerySet[SlaPolicy], today: date) -> QuerySet[SlaPolicy]:
    """Versions with ``frozen`` (a run used it) and ``in_force`` (on ``today``)."""
    used = SlaRun.policies.through.objects.filter(slapolicy_id=OuterRef("pk"))
    later = SlaPolicy.objects.filter(
        engagement_id=OuterRef("engagement_id"),
        effective_from__gt=OuterRef("effective_from"),
        effective_from__lte=today,
    )
    return queryset.annotate(
        frozen=Exists(used),
        in_force=Q(effective_from__lte=today) & ~Exists(later),
    )


class SlaPolicyListView(ObjectListView):
    queryset = SlaPolicy.objects.select_related("created_by")
    table_class = SlaPolicyTable
    filterset_class = SlaPolicyFilterSet
    template_name = "service/slapolicy_list.html"
    title = "SLA policy versions"
    add_url_name = "service:slapolicy_add"

    def get_queryset(self) -> Any:
        engagement = self.get_engagement()
        today = sla_policies.local_today(engagement) if engagement else date.today()
        return policy_rows(super().get_queryset(), today)

    def get_extra_context(self) -> dict[str, Any]:
        engagement = self.get_engagement()
        allowed = engagement is not None and can_add(self.request.user, SlaPolicy, engagement)
        return {"upload_allowed": allowed}


class SlaPolicyDetailView(ObjectDetailView):
    queryset = SlaPolicy.objects.select_related("engagement", "created_by")
    template_name = "service/slapolicy_detail.html"

    def get_extra_context(self, obj: SlaPolicy) -> dict[str, Any]:
        frozen = obj.is_frozen
        try:
            summary = policy_summary(obj.parsed())
            problem = ""
        except PolicyError as exc:  # written around the validators: show, do not crash
            summary, problem = None, str(exc)
        current = sla_policies.in_force(obj.engagement)
        later = (
            SlaPolicy.objects.filter(
                engagement_id=obj.engagement_id, effective_from__gt=obj.effective_from
            )
            .order_by("effective_from")
            .first()
        )
        runs = (
            obj.runs.restrict(self.request.user, Action.VIEW)
            .select_related("started_by")
            .order_by("-started_at", "-pk")
        )
        return {
            "policy": summary,
            "problem": problem,
            "frozen": frozen,
            "in_force": current is not None and current.pk == obj.pk,
            "until": later.effective_from - timedelta(days=1) if later else None,
            "runs": runs[:50],
            "runs_count": runs.count(),
            # A frozen version offers neither Edit nor Delete: both would be refused.
            "can_change": not frozen and can(self.request.user, Action.CHANGE, obj),
            "can_delete": not frozen and can(self.request.user, Action.DELETE, obj),
            "can_add_version": can_add(self.request.user, SlaPolicy, obj.engagement),
        }


class SlaPolicyEditView(ObjectEditView):
    """Add a version (prefilled from the latest one) or edit one no run has used."""

    queryset = SlaPolicy.objects.select_related("engagement")
    form_class = SlaPolicyForm
    template_name = "service/slapolicy_edit.html"

    def get_object(self) -> Any:
        obj = super().get_object()
        if obj.pk is not None and obj.is_frozen:
            raise _Frozen(obj)
        return obj

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return super().dispatch(request, *args, **kwargs)
        except _Frozen as frozen:
            messages.error(request, sla_policies.frozen_message(frozen.policy))
            return redirect(frozen.policy)

    def get_form(self, obj: Any, data: Any = None) -> Any:
        initial: dict[str, Any] = {}
        if obj.pk is None and data is None:
            latest = sla_policies.latest_version(obj.engagement)
            initial["effective_from"] = sla_policies.default_effective_from(obj.engagement)
            if latest is not None:
                initial["source"] = latest.source
                initial["name"] = latest.name
        if data is None:
            draft = take_draft(self.request, obj)
            if draft:
                initial.update(draft)
                messages.info(
                    self.request, "Carried over from the form, not saved yet: save it here."
                )
        return self.form_class(data, instance=obj, user=self.request.user, initial=initial)

    def render_form(self, obj: Any, form: Any, status: int = 200) -> HttpResponse:
        if obj.pk is None:
            latest = sla_policies.latest_version(obj.engagement)
            form.next_version = sla_policies.next_version(obj.engagement)
            form.based_on = latest
        return super().render_form(obj, form, status)

    def save(self, form: Any) -> Any:
        data = {name: form.cleaned_data[name] for name in sla_policies.EDITABLE}
        try:
            if form.instance.pk is None:
                return sla_policies.add_policy_version(
                    engagement=form.instance.engagement, user=self.request.user, **data
                )
            return sla_policies.change_policy_version(
                policy=form.instance, user=self.request.user, **data
            )
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc


#: The policy editor's "Continue as TOML": what the form held, for the text editor to show.
DRAFT_SESSION_KEY = "sla_policy_draft"


def draft_key(obj: SlaPolicy) -> str:
    return f"{obj.engagement_id}:{obj.pk or 'new'}"


def take_draft(request: HttpRequest, obj: SlaPolicy) -> dict[str, Any]:
    """The draft the editor left for this version's text editor (once), else nothing."""
    draft = request.session.pop(DRAFT_SESSION_KEY, None)
    if not isinstance(draft, dict) or draft.get("key") != draft_key(obj):
        return {}
    fields = {name: draft.get(name) for name in sla_policies.EDITABLE}
    return {name: value for name, value in fields.items() if isinstance(value, str)}


class _Frozen(Exception):
    def __init__(self, policy: SlaPolicy) -> None:
        super().__init__(policy.pk)
        self.policy = policy


class SlaPolicyDeleteView(ObjectDeleteView):
    queryset = SlaPolicy.objects.select_related("engagement")

    def success_url(self, obj: Any) -> str:
        return reverse("service:slapolicy_list", args=[obj.engagement_id])

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        if obj.is_frozen:
            messages.error(request, sla_policies.frozen_message(obj))
            return redirect(obj)
        return super().get(request, **kwargs)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        label = f"{obj._meta.verbose_name} “{obj}”"
        try:
            sla_policies.delete_policy_version(policy=obj, user=request.user)
        except sla_policies.PolicyFrozen as exc:
            messages.error(request, str(exc))
            return redirect(obj)
        messages.success(request, f"Deleted {label}.")
        return redirect(self.success_url(obj))


class SlaPolicyUploadView(LoginRequiredMixin, EngagementMixin, View):
    """A TOML file as a new version: same checks as the editor, plus size and encoding."""

    template_name = "service/slapolicy_upload.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        engagement = self.get_engagement()
        assert engagement is not None
        if not can_add(request.user, SlaPolicy, engagement):
            raise PermissionDenied("Your role in this engagement may not add SLA policy versions.")
        return super().dispatch(request, *args, **kwargs)

    def form(self, data: Any = None, files: Any = None) -> SlaPolicyUploadForm:
        engagement = self.get_engagement()
        assert engagement is not None
        initial = {"effective_from": sla_policies.default_effective_from(engagement)}
        return SlaPolicyUploadForm(data, files, engagement_id=engagement.pk, initial=initial)

    def render_form(
        self, form: SlaPolicyUploadForm, *, refused: str = "", status: int = 200
    ) -> Any:
        engagement = self.get_engagement()
        context = {
            "engagement": engagement,
            "form": form,
            "refused": refused,
            "next_version": sla_policies.next_version(engagement),  # type: ignore[arg-type]
            "limit": f"{sla_policies.MAX_POLICY_BYTES // 1024} KB",
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.render_form(self.form())

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > sla_policies.MAX_POLICY_BYTES + _REQUEST_SLACK:
            refused = (
                f"This upload is {length // 1024:,} KB; a policy file may be at most "
                f"{sla_policies.MAX_POLICY_BYTES // 1024} KB."
            )
            return self.render_form(self.form(), refused=refused, status=413)
        form = self.form(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form, status=422)
        engagement = self.get_engagement()
        try:
            policy = sla_policies.add_policy_version(
                engagement=engagement,  # type: ignore[arg-type]
                user=request.user,  # type: ignore[arg-type]
                name=form.cleaned_data["name"],
                effective_from=form.cleaned_data["effective_from"],
                source=form.cleaned_data["file"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                target = "file" if field == "source" else field
                form.add_error(target if target in form.fields else None, errors)
            return self.render_form(form, status=422)
        messages.success(request, f"Added version {policy.version} from {form.files['file'].name}.")
        return redirect(policy)


@login_required
@require_GET
def slapolicy_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The version's TOML as a file, byte for byte what is stored."""
    policy = get_object_or_404(
        SlaPolicy.objects.restrict(request.user, Action.VIEW).select_related("engagement"), pk=pk
    )
    response = HttpResponse(policy.source, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{sla_policies.download_name(policy)}"'
    return response


# Runs -------------------------------------------------------------------------------------


class SlaRunListView(ObjectListView):
    queryset = SlaRun.objects.select_related("started_by")
    table_class = SlaRunTable
    filterset_class = SlaRunFilterSet
    template_name = "service/slarun_list.html"
    title = "SLA runs"

    def get_extra_context(self) -> dict[str, Any]:
        engagement = self.get_engagement()
        assert engagement is not None
        return _start_context(self.request, engagement)


def _start_context(request: HttpRequest, engagement: Engagement) -> dict[str, Any]:
    allowed = can_add(request.user, SlaRun, engagement)
    chooses = allowed and sla_runs.may_choose_as_of(request.user, engagement)  # type: ignore[arg-type]
    return {
        "start_allowed": allowed,
        "start_chooses_as_of": chooses,
        "start_form": StartRunForm(time_zone=engagement.time_zone) if allowed else None,
        "has_policy": SlaPolicy.objects.filter(engagement=engagement).exists(),
    }


@login_required
@require_POST
def slarun_start(request: HttpRequest, engagement_pk: int) -> HttpResponse:
    """ "Run now": queue a run of the engagement and go to its page (it shows the bar)."""
    engagement = get_object_or_404(
        Engagement.objects.restrict(request.user, Action.VIEW), pk=engagement_pk
    )
    if not can_add(request.user, SlaRun, engagement):
        raise PermissionDenied("Your role in this engagement may not start SLA runs.")
    back = reverse("service:slarun_list", args=[engagement.pk])
    form = StartRunForm(request.POST, time_zone=engagement.time_zone)
    if not form.is_valid():
        messages.error(request, "As of: " + " ".join(form.errors.get("as_of", ["invalid."])))
        return redirect(back)
    try:
        run, _ = sla_runs.start_run(
            engagement=engagement,
            user=request.user,  # type: ignore[arg-type]
            as_of=form.cleaned_data["as_of"],
        )
    except sla_runs.RunRefused as exc:
        messages.error(request, str(exc))
        return redirect(back)
    except NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    return redirect(run)


class SlaRunDetailView(ObjectDetailView):
    queryset = SlaRun.objects.select_related("engagement", "started_by", "progress")
    template_name = "service/slarun_detail.html"

    def get_extra_context(self, obj: SlaRun) -> dict[str, Any]:
        policies = obj.policies.restrict(self.request.user, Action.VIEW).order_by("effective_from")
        finished = obj.status in (RunStatus.DONE, RunStatus.FAILED)
        context = {
            "policies": policies,
            "summary": sla_runs.summary(obj),
            "duration": duration(obj),
            "finished": finished,
            "progress": obj.progress,
            "poll_url": reverse("service:slarun_progress", args=[obj.pk]),
            "latest": SlaRun.latest_for(obj.engagement_id),
        }
        context.update(_start_context(self.request, obj.engagement))
        return context


@login_required
@require_GET
def slarun_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's progress card (htmx polls it); once the run has ended, reload its page."""
    # Worker recovery (tandem.core.tasks_recovery): a run whose worker died ends as failed.
    reap_dead_work()
    run = get_object_or_404(
        SlaRun.objects.restrict(request.user, Action.VIEW).select_related("progress"), pk=pk
    )
    if not getattr(request, "htmx", False):
        return redirect(run)
    if run.status in (RunStatus.DONE, RunStatus.FAILED):
        return HttpResponse(headers={"HX-Redirect": run.get_absolute_url()})
    context = {"object": run, "progress": run.progress, "poll_url": request.path}
    return render(request, "service/slarun_progress_bar.html", context)
