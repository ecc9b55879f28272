"""Engagement pages: the signed-in home, the list, the engagement home, create/edit/delete."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from tandem.core.access import can_add
from tandem.core.choices import Action
from tandem.core.filtersets import EngagementFilterSet
from tandem.core.forms import EngagementForm
from tandem.core.headlines import engagement_headlines, home_headlines
from tandem.core.models import ChangeLog, Engagement, EngagementParty, RoleAssignment
from tandem.core.registry import next_steps
from tandem.core.services import (
    NotAllowed,
    can_create_engagement,
    create_engagement,
    engagement_people,
)
from tandem.core.tables import EngagementTable
from tandem.core.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
)
from tandem.core.views.lifecycle import GUIDE, phase_steps

RECENT = 8


class HomeView(LoginRequiredMixin, View):
    """The signed-in person's engagements, their role in each, and recent activity."""

    queryset = Engagement.objects.select_related("client")
    template_name = "core/home.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        engagements = list(self.queryset.all().restrict(user, Action.VIEW)[:50])
        ids = [e.pk for e in engagements]
        roles: dict[int, list[str]] = {}
        for assignment in RoleAssignment.objects.filter(user_id=user.pk, engagement_id__in=ids):
            roles.setdefault(assignment.engagement_id, []).append(assignment.get_role_display())
        vendors: dict[int, list[str]] = {}
        parties = (
            EngagementParty.objects.restrict(user)
            .filter(engagement_id__in=ids, side="vendor")
            .select_related("organization")
        )
        for party in parties:
            vendors.setdefault(party.engagement_id, []).append(party.organization.name)
        cards = [
            {
                "engagement": e,
                "roles": roles.get(e.pk, []),
                "vendors": vendors.get(e.pk, []),
                "steps": phase_steps(e),
            }
            for e in engagements
        ]
        recent = ChangeLog.objects.restrict(user).select_related("content_type")[:RECENT]
        context = {
            "cards": cards,
            "headlines": home_headlines(user, engagements),
            "recent": recent,
            "engagement_names": {e.pk: e.name for e in engagements},
            "can_create": can_create_engagement(user),
        }
        return render(request, self.template_name, context)


class EngagementListView(ObjectListView):
    queryset = Engagement.objects.select_related("client")
    table_class = EngagementTable
    filterset_class = EngagementFilterSet
    template_name = "generic/object_list.html"
    add_url_name = "core:engagement_add"

    def add_allowed(self, engagement: Engagement | None) -> bool:
        return can_create_engagement(self.request.user)


class EngagementDetailView(ObjectDetailView):
    """The engagement home: phase, parties, people, recent activity, what comes next."""

    queryset = Engagement.objects.select_related("client")
    template_name = "core/engagement_detail.html"

    def get_extra_context(self, obj: Engagement) -> dict[str, Any]:
        user = self.request.user
        parties = (
            EngagementParty.objects.restrict(user)
            .filter(engagement=obj)
            .select_related("organization")
            .order_by("side", "organization__name")
        )
        next_phase = obj.next_phase
        return {
            "headlines": engagement_headlines(user, obj),
            "steps": phase_steps(obj),
            "current_guide": GUIDE.get(obj.phase),
            "next_phase": next_phase,
            "next_guide": GUIDE.get(next_phase) if next_phase else None,
            "next_steps": next_steps(user, obj),
            "parties": parties,
            "people": engagement_people(obj, user),
            "recent": ChangeLog.objects.restrict(user)
            .filter(engagement_id=obj.pk)
            .select_related("content_type")[:RECENT],
            "can_add_people": can_add(user, RoleAssignment, obj),
        }


class EngagementEditView(ObjectEditView):
    """Edit an engagement; creating one goes through ``services.create_engagement``."""

    queryset = Engagement.objects.select_related("client")
    form_class = EngagementForm
    template_name = "generic/object_edit.html"

    def can_add_unscoped(self) -> bool:
        return can_create_engagement(self.request.user)

    def save(self, form: EngagementForm) -> Engagement:
        if form.instance.pk is not None:
            return form.save()
        try:
            return create_engagement(actor=self.request.user, engagement=form.save(commit=False))
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc


class EngagementDeleteView(ObjectDeleteView):
    queryset = Engagement.objects.all()
    template_name = "generic/object_delete.html"
