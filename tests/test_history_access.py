"""Every History tab, as every role of the test world, on objects of both sides.

History pages are found from the URL configuration (every route named ``*_history``), and
each is opened by the sponsor, the client's IT lead and staff, the vendor's lead and staff,
the observer, a rival vendor in the same engagement, a vendor of another engagement and a
platform administrator, on the client's and each vendor's objects of both engagements (and on
people and organizations, whose records belong to no engagement). For each:

- an object the person may not see answers 404;
- otherwise the page shows exactly the object's records ``ChangeLog.objects.restrict(person)``
  lets them read: seeing the hospital's sponsor does not let a vendor read her sign-ins.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tandem.core.audit import audit_context
from tandem.core.choices import Action, AuditAction, AuditSource
from tandem.core.models import ChangeLog, Engagement, Organization, User
from tandem.core.testing.registry import load_all_makers
from tandem.core.testing.world import World

pytestmark = pytest.mark.django_db

MAKERS = load_all_makers()
ROLES = (
    "sponsor",
    "it_lead",
    "it_staff",
    "vendor_lead",
    "vendor_staff",
    "observer",
    "rival",
    "outsider",
    "admin",
)
_RECORD_LINK = re.compile(r'href="/audit/(\d+)/"')


def _history_routes(patterns: list, namespace: str = "") -> Iterator[tuple[str, type]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace or ""
            yield from _history_routes(entry.url_patterns, inner if entry.namespace else namespace)
        elif isinstance(entry, URLPattern) and (entry.name or "").endswith("_history"):
            if namespace == "admin":
                continue  # Django admin's own log of admin edits, for platform administrators
            view = entry.callback.view_class  # type: ignore[attr-defined]
            yield f"{namespace}:{entry.name}", view.queryset.model


HISTORY = sorted(_history_routes(get_resolver().url_patterns), key=lambda route: route[0])


def test_history_pages_are_found() -> None:
    names = {name for name, _model in HISTORY}
    assert {"core:user_history", "core:engagement_history", "service:slarun_history"} <= names


def _objects(world: World, model: type[models.Model]) -> list[models.Model]:
    """Instances on both sides: the client's and each vendor's, in both engagements."""
    if model is User:
        return [world.sponsor, world.it_lead, world.vendor_lead, world.rival, world.outsider]
    if model is Organization:
        return [world.alpha, world.acme, world.crest, world.beta, world.bolt]
    if model is Engagement:
        return [world.e1, world.e2]
    owners = [
        (world.e1, world.alpha),
        (world.e1, world.acme),
        (world.e1, world.crest),
        (world.e2, world.beta),
        (world.e2, world.bolt),
    ]
    return [MAKERS[model](engagement, owner) for engagement, owner in owners]


def _change_everything(world: World, objects: dict[str, list[models.Model]]) -> None:
    """Give each object an update record besides its creation (people and organizations as
    a platform administrator would; engagement records as the client's IT lead)."""
    with audit_context(source=AuditSource.WEB, user=world.admin):
        for person in objects["core:user_history"]:
            person.job_title = "Director"
            person.save()
        for organization in objects["core:organization_history"]:
            organization.website = "https://example.test"
            organization.save()
    with audit_context(source=AuditSource.WEB, user=world.it_lead):
        for engagement in objects["core:engagement_history"]:
            engagement.description = "Reviewed"
            engagement.save()


@pytest.fixture
def pages(world: World, client_for) -> tuple[dict[str, list[models.Model]], dict[str, object]]:
    objects = {name: _objects(world, model) for name, model in HISTORY}
    _change_everything(world, objects)
    # Signing in writes a record on the person: the sponsor's sign-in times among them.
    clients = {role: _signed_in(client_for, getattr(world, role)) for role in ROLES}
    return objects, clients


def _signed_in(client_for, user: User):
    """A client of ``user``; a platform administrator's passes the second factor first when
    the platform asks for it (as it does for every administrator session)."""
    client = client_for(user)
    probe = client.get(reverse("core:home"))
    if probe.status_code == 302 and "/2fa/" in probe["Location"]:
        from tandem.core.testing.mfa import forget_used_codes, signed_in_with_new_totp

        forget_used_codes()
        client, _secret = signed_in_with_new_totp(user.email)
    return client


def _shown(html: str) -> set[int]:
    return {int(pk) for pk in _RECORD_LINK.findall(html)}


def test_every_history_page_follows_the_audit_trails_rule(world: World, pages) -> None:
    objects, clients = pages
    hidden = shown_any = 0
    for role in ROLES:
        user = getattr(world, role)
        client = clients[role]
        readable = ChangeLog.objects.restrict(user, Action.VIEW)
        for name, model in HISTORY:
            for obj in objects[name]:
                url = reverse(name, args=[obj.pk])
                response = client.get(url)
                where = f"{role} on {url} ({obj})"
                visible = model._default_manager.all().restrict(user, Action.VIEW)
                if not visible.filter(pk=obj.pk).exists():
                    assert response.status_code == 404, where
                    hidden += 1
                    continue
                assert response.status_code == 200, where
                records = ChangeLog.objects.filter(
                    content_type=ContentType.objects.get_for_model(model), object_id=str(obj.pk)
                )
                assert records.exists(), f"{where}: the test made no record to hide or show"
                shown = _shown(response.content.decode())
                expected = set(readable.filter(pk__in=records).values_list("pk", flat=True))
                assert shown == expected, where
                shown_any += bool(shown)
    assert hidden and shown_any  # both outcomes were exercised


def test_a_vendor_lead_does_not_read_the_sponsors_sign_ins(world: World, pages) -> None:
    _objects_, clients = pages
    url = reverse("core:user_history", args=[world.sponsor.pk])
    sign_ins = ChangeLog.objects.filter(
        object_id=str(world.sponsor.pk), action=AuditAction.LOGIN
    ).values_list("pk", flat=True)
    assert sign_ins
    vendor = clients["vendor_lead"].get(url)
    assert vendor.status_code == 200  # the vendor may see the sponsor (a shared engagement)
    assert not _shown(vendor.content.decode()) & set(sign_ins)
    assert "that you may see" in vendor.content.decode()
    admin = clients["admin"].get(url)
    assert set(sign_ins) <= _shown(admin.content.decode())


def test_vendor_privacy_holds_on_history(world: World, pages) -> None:
    """A vendor's lead reads the engagement's history but not a rival vendor's records."""
    objects, clients = pages
    lead = clients["vendor_lead"]
    engagement = lead.get(reverse("core:engagement_history", args=[world.e1.pk]))
    assert engagement.status_code == 200 and _shown(engagement.content.decode())
    rival_party = next(
        p for p in objects["core:engagementparty_history"] if p.organization == world.crest
    )
    assert lead.get(reverse("core:engagementparty_history", args=[rival_party.pk])).status_code == (
        404
    )


def test_every_page_listing_records_shows_only_readable_ones(world: World, pages) -> None:
    """The other pages that show change records - the audit trail (whole and per
    engagement), a record's page with its related records, the home page and each object's
    detail page (the engagement's shows its recent changes) - keep to the same rule, and a
    record outside it answers 404."""
    objects, clients = pages
    every_record = set(ChangeLog.objects.values_list("pk", flat=True))
    for role in ROLES:
        user = getattr(world, role)
        client = clients[role]
        readable = set(ChangeLog.objects.restrict(user, Action.VIEW).values_list("pk", flat=True))
        urls = [reverse("core:home"), reverse("core:changelog_list")]
        for engagement in (world.e1, world.e2):
            audit = reverse("core:engagement_audit", args=[engagement.pk])
            if Engagement.objects.restrict(user).filter(pk=engagement.pk).exists():
                urls.append(audit)
            else:
                assert client.get(audit).status_code == 404, (role, audit)
        for name, model in HISTORY:
            visible = model._default_manager.all().restrict(user, Action.VIEW)
            urls += [
                reverse(name.replace("_history", "_detail"), args=[obj.pk])
                for obj in objects[name]
                if visible.filter(pk=obj.pk).exists()
            ]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (role, url)
            assert _shown(response.content.decode()) <= readable, (role, url)
        for pk in sorted(readable)[:5]:
            page = client.get(reverse("core:changelog_detail", args=[pk]))
            assert page.status_code == 200 and _shown(page.content.decode()) <= readable
        for pk in sorted(every_record - readable)[:5]:
            assert client.get(reverse("core:changelog_detail", args=[pk])).status_code == 404
