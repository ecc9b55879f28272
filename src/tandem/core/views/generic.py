"""The four generic views every Tandem page builds on: list, detail, edit, delete.

Each one fetches through ``restrict()``: an object outside the user's scope is a 404, an
object the user may see but not change is a 403. Writes run in one transaction; the audit
trail is written by the model signals inside it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import EmptyPage
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import capfirst
from django.views import View

from tandem.core import exports, exports_background
from tandem.core.access import can, can_add
from tandem.core.choices import Action
from tandem.core.htmx import htmx_partial
from tandem.core.models import ChangeLog, Engagement
from tandem.core.views.filterbar import tidy_filter_form


class EngagementMixin:
    """Resolve the ``engagement_pk`` URL argument through the user's scope (404 otherwise)."""

    request: HttpRequest
    kwargs: dict[str, Any]

    def get_engagement(self) -> Engagement | None:
        pk = self.kwargs.get("engagement_pk")
        if pk is None:
            return None
        if not hasattr(self, "_engagement"):
            self._engagement = get_object_or_404(
                Engagement.objects.restrict(self.request.user, Action.VIEW), pk=pk
            )
        return self._engagement


class ObjectListView(LoginRequiredMixin, EngagementMixin, View):
    """A sortable, filterable table of what the user may see; ``?export=csv`` or
    ``?export=xlsx`` downloads it (the same rows, through ``tandem.core.exports``)."""

    queryset: models.QuerySet[Any]
    table_class: type
    filterset_class: type | None = None
    template_name = "generic/object_list.html"
    title = ""
    add_url_name: str | None = None
    per_page = 25

    # The field that ties a row to the ``engagement_pk`` of the URL; defaults to the model's
    # ``engagement_lookup`` (the audit trail stores a plain ``engagement_id``).
    engagement_field: str | None = None
    # Columns to leave out when the list is shown inside one engagement.
    engagement_exclude: tuple[str, ...] = ("engagement",)

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = self.queryset.all().restrict(self.request.user, Action.VIEW)
        engagement = self.get_engagement()
        if engagement is not None:
            field = self.engagement_field or getattr(
                self.queryset.model, "engagement_lookup", "engagement"
            )
            queryset = queryset.filter(**{field: engagement.pk})
        return queryset

    def get_table(self, queryset: models.QuerySet[Any]) -> Any:
        exclude = self.engagement_exclude if self.get_engagement() is not None else ()
        return self.table_class(queryset, request=self.request, exclude=exclude)

    def get_extra_context(self) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse | StreamingHttpResponse:
        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            filterset = self.filterset_class(request.GET, queryset=queryset, request=request)
            tidy_filter_form(filterset.form)  # before validation caches the bound fields
            queryset = filterset.qs if filterset.is_valid() else queryset.none()
        fmt = request.GET.get("export")
        if fmt in exports.FORMATS:  # counted (a limited count) before a table counts it all
            background = self.export_in_background(queryset, fmt)
            return background or self.export(self.get_table(queryset), fmt)
        table = self.get_table(queryset)
        try:
            table.paginate(page=page_number(request), per_page=self.per_page)
        except EmptyPage:
            table.paginate(page=table.paginator.num_pages, per_page=self.per_page)
        engagement = self.get_engagement()
        context = {
            "table": table,
            "filterset": filterset,
            "title": self.title or capfirst(self.queryset.model._meta.verbose_name_plural),
            "engagement": engagement,
            "model": self.queryset.model,
            "add_allowed": self.add_allowed(engagement),
            "add_url_name": self.add_url_name,
        }
        context.update(self.get_extra_context())
        return render(request, htmx_partial(request, self.template_name, list_page=True), context)

    def add_allowed(self, engagement: Engagement | None) -> bool:
        if self.add_url_name is None:
            return False
        if engagement is None:
            return bool(self.request.user.is_staff)
        return can_add(self.request.user, self.queryset.model, engagement)

    def export_in_background(self, queryset: models.QuerySet[Any], fmt: str) -> Any:
        """Over ``TANDEM_EXPORT_BACKGROUND_ROWS`` rows: the export queued and the redirect to
        its progress page (``tandem.core.exports_background``); None: write it now."""
        return exports_background.start_if_large(
            self.request,
            queryset,
            fmt=fmt,
            title=self.title or capfirst(self.queryset.model._meta.verbose_name_plural),
            engagement=self.get_engagement(),
        )

    def export(self, table: Any, fmt: str) -> StreamingHttpResponse:
        """The table's rows (every page, the same filters) as a CSV or XLSX file; instants
        in a workbook in the engagement's time zone (UTC outside one)."""
        columns, rows = exports.table_export(table)
        plural = str(self.queryset.model._meta.verbose_name_plural)
        engagement = self.get_engagement()
        name = exports.file_slug(plural)
        if engagement is not None:  # "alpha-managed-services-tickets.csv"
            name = f"{exports.file_slug(engagement.name, 'engagement')}-{name}"
        return exports.export_response(
            fmt,
            columns,
            rows,
            name=name,
            sheet=capfirst(plural),
            time_zone=engagement.time_zone if engagement is not None else "UTC",
        )


def page_number(request: HttpRequest) -> int:
    """The ?page= of a list, 1 when missing or not a number."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


class ObjectDetailView(LoginRequiredMixin, View):
    """One object, with a History tab that reads its audit records."""

    queryset: models.QuerySet[Any]
    template_name = ""
    tab = "details"

    def get_object(self) -> Any:
        return get_object_or_404(
            self.queryset.all().restrict(self.request.user, Action.VIEW), pk=self.kwargs["pk"]
        )

    def get_extra_context(self, obj: Any) -> dict[str, Any]:
        return {}

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        context: dict[str, Any] = {
            "object": obj,
            "tab": self.tab,
            "engagement": _engagement_of(obj),
            "can_change": can(request.user, Action.CHANGE, obj),
            "can_delete": can(request.user, Action.DELETE, obj),
        }
        if self.tab == "history":
            context["history"] = history_for(obj, request.user)
            template = "generic/object_history.html"
        else:
            context.update(self.get_extra_context(obj))
            template = self.template_name
        return render(request, template, context)


def history_for(obj: models.Model, user: Any) -> models.QuerySet[ChangeLog]:
    """The History tab's records: the object's, as the audit trail lets ``user`` read them.

    Seeing an object does not open its whole trail: a vendor lead may see the client's
    sponsor, never the sponsor's sign-ins. ``ChangeLog.objects.restrict`` decides, as on
    ``/audit/``: records of the user's engagements (vendor privacy applied), everything for
    platform administrators, and for others nothing outside an engagement (people,
    organizations, sign-ins)."""
    from django.contrib.contenttypes.models import ContentType

    return (
        ChangeLog.objects.restrict(user, Action.VIEW)
        .filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk))
        .select_related("content_type")
    )


def _engagement_of(obj: Any) -> Engagement | None:
    if isinstance(obj, Engagement):
        return obj if obj.pk is not None else None
    return getattr(obj, "engagement", None)


class ObjectEditView(LoginRequiredMixin, EngagementMixin, View):
    """Create (under an engagement, or at the top for platform objects) or edit one object."""

    queryset: models.QuerySet[Any]
    form_class: type
    template_name = "generic/object_edit.html"

    def get_object(self) -> Any:
        if "pk" not in self.kwargs:
            engagement = self.get_engagement()
            model = self.queryset.model
            allowed = (
                can_add(self.request.user, model, engagement)
                if engagement is not None
                else self.can_add_unscoped()
            )
            if not allowed:
                raise PermissionDenied("You may not add this here.")
            obj = model()
            if engagement is not None:
                obj.engagement = engagement
            return obj
        obj = get_object_or_404(
            self.queryset.all().restrict(self.request.user, Action.VIEW), pk=self.kwargs["pk"]
        )
        if not can(self.request.user, Action.CHANGE, obj):
            raise PermissionDenied("You may see this but not change it.")
        return obj

    def can_add_unscoped(self) -> bool:
        return bool(self.request.user.is_staff)

    def get_form(self, obj: Any, data: Any = None) -> Any:
        return self.form_class(data, instance=obj, user=self.request.user)

    def render_form(self, obj: Any, form: Any, status: int = 200) -> HttpResponse:
        context = {
            "object": obj,
            "form": form,
            "engagement": _engagement_of(obj) or self.get_engagement(),
            "model": self.queryset.model,
            "adding": obj.pk is None,
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        return self.render_form(obj, self.get_form(obj))

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        adding = obj.pk is None
        form = self.get_form(obj, request.POST)
        if not form.is_valid():
            return self.render_form(obj, form, status=422)
        with transaction.atomic():
            obj = self.save(form)
        verb = "Created" if adding else "Saved"
        messages.success(request, f"{verb} {obj._meta.verbose_name} “{obj}”.")
        return redirect(self.success_url(obj))

    def save(self, form: Any) -> Any:
        return form.save()

    def success_url(self, obj: Any) -> str:
        return obj.get_absolute_url()  # type: ignore[no-any-return]


class ObjectDeleteView(LoginRequiredMixin, View):
    """Confirm, then delete; a protected object explains what still depends on it."""

    queryset: models.QuerySet[Any]
    template_name = "generic/object_delete.html"

    def get_object(self) -> Any:
        obj = get_object_or_404(
            self.queryset.all().restrict(self.request.user, Action.VIEW), pk=self.kwargs["pk"]
        )
        if not can(self.request.user, Action.DELETE, obj):
            raise PermissionDenied("You may see this but not delete it.")
        return obj

    def success_url(self, obj: Any) -> str:
        engagement = _engagement_of(obj)
        if engagement is not None and engagement is not obj:
            return engagement.get_absolute_url()
        return "/"

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        return render(
            request, self.template_name, {"object": obj, "engagement": _engagement_of(obj)}
        )

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        target = self.success_url(obj)
        label = f"{obj._meta.verbose_name} “{obj}”"
        try:
            with transaction.atomic():
                obj.delete()
        except (ProtectedError, RestrictedError) as exc:
            blockers = sorted({str(o._meta.verbose_name_plural) for o in exc.protected_objects})
            messages.error(request, f"Cannot delete {label}: {', '.join(blockers)} still use it.")
            return redirect(obj.get_absolute_url())
        messages.success(request, f"Deleted {label}.")
        return redirect(target)
