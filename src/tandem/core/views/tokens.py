"""Your API tokens, under your profile: list, issue (the key shown once), revoke.

Only your own tokens, through ``ApiToken.objects.restrict``; someone else's token id is a
404. A person who must use a second factor issues tokens only from a session that passed
one (the middleware already keeps any other session of theirs out of these pages).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from tandem.core import mfa, tokens
from tandem.core.choices import Action
from tandem.core.models import ApiToken

TEMPLATE = "core/tokens.html"


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text="What the token is for, e.g. “nightly export”.",
    )
    valid_until = forms.DateField(
        required=False,
        label="Valid until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day (UTC) the token works. Empty: until you revoke it.",
    )

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("A token needs a name (what it is for).")
        return name

    def clean_valid_until(self) -> date | None:
        day: date | None = self.cleaned_data.get("valid_until")
        if day is not None and day < timezone.now().date():
            raise forms.ValidationError("The last day must be today or later.")
        return day

    def expires(self) -> datetime | None:
        """The end of the chosen day, UTC."""
        day = self.cleaned_data.get("valid_until")
        if day is None:
            return None
        return datetime.combine(day, time.max, tzinfo=UTC)


def _page(request: HttpRequest, form: ApiTokenForm, **extra: Any) -> HttpResponse:
    listed = ApiToken.objects.restrict(request.user, Action.VIEW)
    now = timezone.now()
    context = {
        "form": form,
        "tokens": [(token, tokens.is_usable(token, now=now)) for token in listed],
        "needs_mfa": mfa.requires_mfa(request.user),
        **extra,
    }
    return render(request, TEMPLATE, context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The list and the form; a POST issues a token and shows its key on this answer only."""
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    verified = mfa.session_passed_mfa(request)
    if mfa.requires_mfa(request.user) and not verified:  # the middleware stops this first
        form.add_error(None, mfa.MFA_REQUIRED_MESSAGE)
        return _page(request, form)
    token, key = tokens.issue_token(
        request.user,
        name=form.cleaned_data["name"],
        mfa_verified=verified,
        expires=form.expires(),
    )
    return _page(request, ApiTokenForm(), issued=token, key=key)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.restrict(request.user, Action.CHANGE), pk=pk)
    if tokens.revoke_token(token):
        messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    else:
        messages.info(request, f"Token “{token.name}” was already revoked.")
    return redirect("core:apitoken_list")
