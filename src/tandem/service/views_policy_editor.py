"""The policy editor: a version's calendars, targets and credit terms as a form, no TOML typed.

The same URLs' neighbours (``…/toml/``) keep the text editor. Adding starts from the latest
version's policy (the first version from the commented example, in the engagement's time zone
and currency); editing starts from the version itself. "Add a calendar" / "Add a target" post
the page back with one more row (no script needed); "Remove" drops a row when saving. Saving
writes the TOML (``tandem.analytics.policy_toml``) and goes through ``sla_policies`` like every
other version: reader, audit trail and numbering are one path. Nothing is saved while anything
is wrong; every error is listed at the top by section, row and field, and shown at the field.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse

from tandem.analytics.policy import Policy, PolicyError, parse_policy
from tandem.analytics.policy_toml import render_policy
from tandem.core.services import NotAllowed
from tandem.service import sla_policies
from tandem.service.forms_policy_editor import MAX_CALENDARS, MAX_TARGETS, PolicyEditor
from tandem.service.models import SlaPolicy
from tandem.service.policy_template import example_policy
from tandem.service.views_sla import DRAFT_SESSION_KEY, SlaPolicyEditView, draft_key

_ROWS = {"calendars": MAX_CALENDARS, "targets": MAX_TARGETS}


class PolicyEditorView(SlaPolicyEditView):
    """Add a version, or edit one no run has used, with the form."""

    template_name = "service/slapolicy_editor.html"

    def starting_point(self, obj: SlaPolicy) -> tuple[Policy | None, str]:
        """The policy the rows start from, and what to say about it."""
        source, said = obj.source, ""
        if obj.pk is None:
            latest = sla_policies.latest_version(obj.engagement)
            if latest is not None:
                source = latest.source
                today = sla_policies.local_today(obj.engagement)
                said = (
                    f"Prefilled from v{latest.version} ({latest.name}): change what changes. "
                    f"It starts this month unless you say otherwise (today is {today:%b %-d, %Y}"
                    f" in {obj.engagement.time_zone})."
                )
            else:
                source = example_policy(timezone=obj.engagement.time_zone)
                said = (
                    "The first version of this engagement's policy, started from the example "
                    "(docs/sla-policy-example.toml): change it to the contract's terms. It "
                    "starts with the engagement's first month unless you say otherwise."
                )
        try:
            return parse_policy(source), said
        except PolicyError as exc:  # written before today's checks: start from the rows we can
            return None, f"The previous policy cannot be read ({exc}); start from empty rows."

    def editor(self, obj: SlaPolicy, data: Any = None) -> PolicyEditor:
        engagement = obj.engagement
        policy, _ = self.starting_point(obj) if data is None else (None, "")
        initial: dict[str, Any] = {}
        if obj.pk is None and data is None:
            initial["effective_from"] = sla_policies.default_effective_from(engagement)
            latest = sla_policies.latest_version(engagement)
            initial["name"] = latest.name if latest is not None else ""
        return PolicyEditor(
            instance=obj,
            user=self.request.user,
            data=data,
            policy=policy,
            version_initial=initial,
            currency=engagement.currency,
            time_zone=engagement.time_zone,
        )

    def render_editor(
        self, obj: SlaPolicy, editor: PolicyEditor, *, show_errors: bool, status: int = 200
    ) -> HttpResponse:
        engagement = obj.engagement
        _, said = self.starting_point(obj) if obj.pk is None or not show_errors else (None, "")
        context = {
            "object": obj,
            "engagement": engagement,
            "adding": obj.pk is None,
            "editor": editor,
            "form": editor.version,
            "show_errors": show_errors,
            "errors": editor.summary() if show_errors else [],
            "started_from": said,
            "next_version": sla_policies.next_version(engagement) if obj.pk is None else None,
            "comments_dropped": obj.pk is not None and "#" in obj.source,
            "toml_url": _toml_url(obj),
            "today": sla_policies.local_today(engagement),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        return self.render_editor(obj, self.editor(obj), show_errors=False)

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        adding = obj.pk is None
        grow = request.POST.get("add_row", "")
        if grow in _ROWS:
            data = _with_one_more_row(request.POST, grow, obj.engagement.time_zone)
            return self.render_editor(obj, self.editor(obj, data), show_errors=False)
        editor = self.editor(obj, request.POST)
        if not editor.is_valid():
            return self.render_editor(obj, editor, show_errors=True, status=422)
        policy = editor.policy()
        if policy is None:
            return self.render_editor(obj, editor, show_errors=True, status=422)
        source = render_policy(policy)
        if request.POST.get("to_toml"):  # the text editor takes over what the form holds
            version = editor.version.cleaned_data
            request.session[DRAFT_SESSION_KEY] = {
                "key": draft_key(obj),
                "name": version["name"],
                "effective_from": version["effective_from"].isoformat(),
                "note": version["note"],
                "source": source,
            }
            return redirect(_toml_url(obj))
        try:
            parse_policy(source)
        except PolicyError as exc:
            editor.place(exc)
            return self.render_editor(obj, editor, show_errors=True, status=422)
        fields = {name: editor.version.cleaned_data[name] for name in ("name", "effective_from")}
        fields["note"] = editor.version.cleaned_data["note"]
        try:
            if adding:
                saved = sla_policies.add_policy_version(
                    engagement=obj.engagement,
                    user=request.user,  # type: ignore[arg-type]
                    source=source,
                    **fields,
                )
            else:
                saved = sla_policies.change_policy_version(
                    policy=obj,
                    user=request.user,  # type: ignore[arg-type]
                    source=source,
                    **fields,
                )
        except NotAllowed as exc:
            raise PermissionDenied(str(exc)) from exc
        except sla_policies.PolicyFrozen as exc:
            messages.error(request, str(exc))
            return redirect(obj)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                if field in editor.version.fields:
                    editor.version.add_error(field, errors)
                else:
                    editor.policy_errors.extend(errors)
            return self.render_editor(obj, editor, show_errors=True, status=422)
        verb = "Created" if adding else "Saved"
        messages.success(request, f"{verb} {saved._meta.verbose_name} “{saved}”.")
        return redirect(saved)


def _toml_url(obj: SlaPolicy) -> str:
    if obj.pk is None:
        return reverse("service:slapolicy_add_toml", args=[obj.engagement.pk])
    return reverse("service:slapolicy_edit_toml", args=[obj.pk])


def _with_one_more_row(posted: QueryDict, prefix: str, time_zone: str) -> QueryDict:
    """The posted page with an empty row added to ``prefix`` (within its limit), prefilled
    with the defaults an untouched row has, so leaving it alone makes nothing."""
    data = posted.copy()
    try:
        total = int(data.get(f"{prefix}-TOTAL_FORMS", "0"))
    except ValueError:
        return data
    if not 0 <= total < _ROWS[prefix]:
        return data
    data[f"{prefix}-TOTAL_FORMS"] = str(total + 1)
    if prefix == "calendars":
        data[f"calendars-{total}-timezone"] = time_zone
    else:
        data[f"targets-{total}-within_unit"] = "h"
        data[f"targets-{total}-priority"] = "P1"
        data[f"targets-{total}-metric"] = "response"
        names = PolicyEditor.calendar_names(data)
        if names:
            data[f"targets-{total}-calendar"] = names[0]
    return data
