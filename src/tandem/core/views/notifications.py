"""Your notifications (the bell's list, open = mark read, mark all read) and your personal
calendar feed (create, rotate, delete; the feed itself at /calendar/<token>.ics).

Only your own, through ``restrict``: someone else's notification id is a 404, for platform
administrators too.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tandem.core import calendar_feed, notifications
from tandem.core.models import CalendarFeed, Notification

PAGE_SIZE = 25


@never_cache
@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """Newest first, unread highlighted, 25 a page."""
    rows = Notification.objects.restrict(request.user).select_related("engagement")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/notification_list.html", {"page": page})


@never_cache
@login_required
@require_GET
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and go where it points (the list when it has no link)."""
    notification = get_object_or_404(Notification.objects.restrict(request.user), pk=pk)
    notifications.mark_read(notification)
    url = notification.url
    if not url or not url.startswith("/") or url.startswith("//"):
        url = reverse("core:notification_list")
    return redirect(url)


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = notifications.mark_all_read(request.user)
    if count:
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("core:notification_list")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def calendar_feed_page(request: HttpRequest) -> HttpResponse:
    """Your calendar feed: a POST with ``action`` "create" (or "rotate") issues a new secret
    address, shown on this answer only; "delete" removes it."""
    feed_url = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action in {"create", "rotate"}:
            _feed, token = calendar_feed.issue_feed(request.user)
            feed_url = request.build_absolute_uri(
                reverse("core:calendar_feed", kwargs={"token": token})
            )
            if action == "rotate":
                messages.success(request, "New address issued: the previous one no longer works.")
        elif action == "delete":
            if calendar_feed.delete_feed(request.user):
                messages.success(request, "Calendar feed deleted: its address no longer works.")
            return redirect("core:calendar_feed_settings")
        else:
            messages.error(request, "Choose create, rotate or delete.")
            return redirect("core:calendar_feed_settings")
    feed = CalendarFeed.objects.restrict(request.user).first()
    return render(request, "core/notification_calendar.html", {"feed": feed, "feed_url": feed_url})


@never_cache
@require_GET
def calendar_feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The feed: no session needed (a calendar client fetches it); the secret token is the
    credential. An unknown, rotated or deleted token is a 404."""
    feed = calendar_feed.find_feed(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    if calendar_feed.over_rate(feed):
        response = HttpResponse(
            "Too many reads of this feed: try again in a minute.\n",
            status=429,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "60"
        return response
    body = calendar_feed.render_ics(feed.user, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tandem.ics"'
    response["Referrer-Policy"] = "no-referrer"
    return response
