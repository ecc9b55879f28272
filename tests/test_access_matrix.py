"""The generic access test: every engagement-scoped model, through UI, API and export.

For each model registered in ``tandem.core.testing.registry`` (and every scoped model must
be registered), with the two-engagement world of ``tandem.core.testing.world``:

- a person with no role in the engagement gets 404 - not 403, not data - on the UI detail
  page, the API detail, the engagement's list export, and never finds the object in an
  API list;
- the matrix: every role of the engagement (the table's columns) may do, on every model,
  exactly the actions ``PERMISSIONS[model.scope_area][role]`` grants, through the UI and
  the API - a granted action passes the permission check, a refused one is a 403 and
  changes nothing, not even the audit trail; opening an engagement follows the
  organization-level right instead (``User.may_open_engagements``);
- a vendor never sees an object owned by another vendor of the same engagement.

Conventions it relies on: ``get_absolute_url()``; UI names ``<app>:<model>_add``,
``<app>:<model>_edit``, ``<app>:<model>_delete``, ``<app>:<model>_list`` (``engagement_pk``
for scoped models) or a registered ``add_page``; API names ``<app>-api:<model>-list`` /
``-detail``. The expectations are read from the table, never listed here: a new row of the
table, or a new model in an area, is covered without editing this file.
"""

from __future__ import annotations

import copy

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import NoReverseMatch, URLResolver, get_resolver, resolve, reverse

from tandem.core.access import PERMISSIONS
from tandem.core.choices import Action
from tandem.core.models import ChangeLog, Engagement
from tandem.core.testing.registry import ADD_PAGES, load_all_makers, scoped_models
from tandem.core.testing.world import World

MAKERS = load_all_makers()
MODELS = scoped_models()


def _ids(models_: list[type[models.Model]]) -> list[str]:
    return [m._meta.label for m in models_]


def _names(model: type[models.Model]) -> tuple[str, str]:
    return model._meta.app_label, model._meta.model_name or ""


def _make(world: World, model: type[models.Model], engagement: Engagement | None = None):
    engagement = engagement or world.e1
    owner = world.alpha if engagement == world.e1 else world.beta
    return MAKERS[model](engagement, owner)


def _writable(model: type[models.Model]) -> bool:
    return getattr(model, "writable", True)


def _api_ids(response) -> set[str]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {str(row["id"]) for row in rows}


def test_every_scoped_model_is_registered() -> None:
    missing = [m._meta.label for m in MODELS if m not in MAKERS]
    assert not missing, f"register an access-test maker for: {', '.join(missing)}"


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=_ids(MODELS))
class TestOutsiderGets404:
    def test_ui_detail(self, model, world, client_for) -> None:
        obj = _make(world, model)
        assert client_for(world.it_lead).get(obj.get_absolute_url()).status_code == 200
        assert client_for(world.outsider).get(obj.get_absolute_url()).status_code == 404

    def test_ui_edit_and_delete(self, model, world, client_for) -> None:
        obj = _make(world, model)
        app, name = _names(model)
        if not _writable(model):
            for action in ("edit", "delete"):
                with pytest.raises(NoReverseMatch):
                    reverse(f"{app}:{name}_{action}", args=[obj.pk])
            return
        for action in ("edit", "delete"):
            url = reverse(f"{app}:{name}_{action}", args=[obj.pk])
            client = client_for(world.outsider)
            assert client.get(url).status_code == 404, url
            assert client.post(url, {}).status_code == 404, url

    def test_api_detail(self, model, world, api_for) -> None:
        obj = _make(world, model)
        app, name = _names(model)
        url = reverse(f"{app}-api:{name}-detail", args=[obj.pk])
        assert api_for(world.it_lead).get(url).status_code == 200
        outsider = api_for(world.outsider)
        assert outsider.get(url).status_code == 404
        allowed = {404} if _writable(model) else {404, 405}
        assert outsider.patch(url, {}, format="json").status_code in allowed
        assert outsider.delete(url).status_code in allowed

    def test_api_list(self, model, world, api_for) -> None:
        obj = _make(world, model)
        app, name = _names(model)
        url = reverse(f"{app}-api:{name}-list") + "?limit=1000"
        assert str(obj.pk) in _api_ids(api_for(world.it_lead).get(url))
        response = api_for(world.outsider).get(url)
        assert response.status_code == 200
        assert str(obj.pk) not in _api_ids(response)

    def test_export(self, model, world, client_for) -> None:
        obj = _make(world, model)
        app, name = _names(model)
        if model is Engagement:
            url = reverse(f"{app}:{name}_list") + "?export=csv"
            member = client_for(world.it_lead).get(url)
            assert member.status_code == 200
            assert str(obj).encode() in b"".join(member.streaming_content)
            outsider = client_for(world.outsider).get(url)
            assert outsider.status_code == 200
            assert str(obj).encode() not in b"".join(outsider.streaming_content)
        else:
            url = reverse(f"{app}:{name}_list", args=[world.e1.pk]) + "?export=csv"
            assert client_for(world.it_lead).get(url).status_code == 200
            assert client_for(world.outsider).get(url).status_code == 404


# --- The matrix: every role x model x action, exactly as the table grants -----------------

ROLES = tuple(next(iter(PERMISSIONS.values())))  # the table's columns, in its order
ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)
ALLOWED_ADD = {200, 201, 202, 302, 400, 422}  # past the permission check: saved, or told why not


def granted(world: World, model: type[models.Model], role: str, action: str) -> bool:
    """What the table grants ``role`` on ``model`` - except opening an engagement, which is
    no role's (a role exists only inside one) but the organization-level right, held in the
    world by its organization administrators."""
    if model is Engagement and action == Action.ADD:
        return bool(getattr(world, role).may_open_engagements)
    return action in PERMISSIONS[model.scope_area][role]


def _offers(url: str, method: str) -> bool:
    """Does the API route answer ``method`` at all? (A read-only viewset answers 405.)"""
    view = resolve(url).func
    return method in view.actions and method in view.cls.http_method_names


def _snapshot(model: type[models.Model]) -> tuple[int, list[dict]]:
    rows = list(model._default_manager.order_by("pk").values())
    return ChangeLog.objects.changes().count(), rows


def _ui_add_url(world: World, model: type[models.Model]) -> str | None:
    app, name = _names(model)
    if model in ADD_PAGES:
        return reverse(ADD_PAGES[model], args=[world.e1.pk])
    if model is Engagement:
        return reverse(f"{app}:{name}_add")
    try:
        return reverse(f"{app}:{name}_add", args=[world.e1.pk])
    except NoReverseMatch:
        return None


# "approve" is checked where a model names the fields whose change is an approval
# (``approval_fields``: an engagement's phase); the guard below fails for any other approval.
CASES = [
    (model, action)
    for model in MODELS
    for action in ACTIONS + ((Action.APPROVE,) if getattr(model, "approval_fields", ()) else ())
]


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "action"), CASES, ids=[f"{m._meta.label}-{a}" for m, a in CASES])
def test_each_role_may_do_exactly_what_the_table_grants(
    model, action, world, client_for, api_for
) -> None:
    """Through the UI and the API, for every role of the engagement: a granted action passes
    the permission check, a refused one is a 403 (404 for what the role may not even see)
    and changes nothing, not even the audit trail. Read-only bulk rows (``writable = False``)
    have no edit or delete page and answer 405 to every API update and delete; the rows
    some of them gain from a wizard or an action (``ADD_PAGES``) follow the table's "add"."""
    check = {
        Action.VIEW: _check_view,
        Action.ADD: _check_add,
        Action.CHANGE: _check_change,
        Action.DELETE: _check_delete,
        Action.APPROVE: _check_approve,
    }[action]
    wrong: list[str] = []
    for role in ROLES:
        user = getattr(world, role)
        allowed = granted(world, model, role, action)
        for where, answer, expected in check(world, model, user, allowed, client_for, api_for):
            if answer not in expected:
                verdict = "granted" if allowed else "refused"
                wrong.append(f"{role} ({verdict}) {where}: {answer}, expected {sorted(expected)}")
    assert not wrong, f"{model._meta.label} {action}:\n" + "\n".join(wrong)


def _check_view(world, model, user, allowed, client_for, api_for):
    obj = _make(world, model)
    app, name = _names(model)
    seen = {200} if allowed else {404}
    yield "UI detail", client_for(user).get(obj.get_absolute_url()).status_code, seen
    api = api_for(user)
    yield (
        "API detail",
        api.get(reverse(f"{app}-api:{name}-detail", args=[obj.pk])).status_code,
        seen,
    )
    listed = str(obj.pk) in _api_ids(api.get(reverse(f"{app}-api:{name}-list") + "?limit=1000"))
    yield "API list holds it", listed, {allowed}


def _check_add(world, model, user, allowed, client_for, api_for):
    app, name = _names(model)
    before = _snapshot(model)
    ui = _ui_add_url(world, model)
    if ui is None:
        yield "writable, yet no add page", _writable(model), {False}
    else:
        client = client_for(user)
        if model not in ADD_PAGES:  # a form page; wizard steps and actions take only POSTs
            yield "UI add GET", client.get(ui).status_code, {200} if allowed else {403}
        yield "UI add POST {}", client.post(ui, {}).status_code, ALLOWED_ADD if allowed else {403}
    url = reverse(f"{app}-api:{name}-list")
    payload = {} if model is Engagement else {"engagement": world.e1.pk}
    answer = api_for(user).post(url, payload, format="json").status_code
    if not _offers(url, "post"):
        yield "API add (not offered)", answer, {405}
    else:
        yield "API add POST", answer, ALLOWED_ADD if allowed else {403}
    if not allowed:
        yield "nothing added", _snapshot(model) == before, {True}


def _check_change(world, model, user, allowed, client_for, api_for):
    obj = _make(world, model)
    app, name = _names(model)
    detail = reverse(f"{app}-api:{name}-detail", args=[obj.pk])
    before = _snapshot(model)
    api = api_for(user)
    if not _writable(model):
        try:
            reverse(f"{app}:{name}_edit", args=[obj.pk])
        except NoReverseMatch:
            pass
        else:
            yield "UI edit page of read-only rows", "exists", {"absent"}
        yield "API PATCH (read-only rows)", api.patch(detail, {}, format="json").status_code, {405}
        yield "API PUT (read-only rows)", api.put(detail, {}, format="json").status_code, {405}
    else:
        client = client_for(user)
        edit = reverse(f"{app}:{name}_edit", args=[obj.pk])
        yield "UI edit GET", client.get(edit).status_code, {200} if allowed else {403}
        posted = client.post(edit, {}).status_code
        yield "UI edit POST {}", posted, {200, 302, 422} if allowed else {403}
        yield (
            "API PATCH {}",
            api.patch(detail, {}, format="json").status_code,
            ({200} if allowed else {403}),
        )
        if not allowed:
            yield "API PUT {}", api.put(detail, {}, format="json").status_code, {403}
    if not (allowed and _writable(model)):
        yield "nothing changed", _snapshot(model) == before, {True}


def _check_delete(world, model, user, allowed, client_for, api_for):
    app, name = _names(model)
    api = api_for(user)
    if not _writable(model):
        obj = _make(world, model)
        before = _snapshot(model)
        try:
            reverse(f"{app}:{name}_delete", args=[obj.pk])
        except NoReverseMatch:
            pass
        else:
            yield "UI delete page of read-only rows", "exists", {"absent"}
        detail = reverse(f"{app}-api:{name}-detail", args=[obj.pk])
        yield "API DELETE (read-only rows)", api.delete(detail).status_code, {405}
        yield "nothing deleted", _snapshot(model) == before, {True}
        return
    obj = _make(world, model)
    before = _snapshot(model)
    detail = reverse(f"{app}-api:{name}-detail", args=[obj.pk])
    yield "API DELETE", api.delete(detail).status_code, {204} if allowed else {403}
    if allowed:  # a fresh row for the page (makers of one-per-engagement rows make it again)
        obj = _make(world, model)
    page = reverse(f"{app}:{name}_delete", args=[obj.pk])
    client = client_for(user)
    yield "UI delete GET", client.get(page).status_code, {200} if allowed else {403}
    yield "UI delete POST", client.post(page).status_code, {302} if allowed else {403}
    if allowed:
        yield "deleted", model._default_manager.filter(pk=obj.pk).exists(), {False}
    else:
        yield "nothing deleted", _snapshot(model) == before, {True}


def _another_value(obj: models.Model, name: str) -> object:
    """A valid value of choice field ``name`` other than ``obj``'s (the row's rules hold)."""
    field = obj._meta.get_field(name)
    current = getattr(obj, name)
    for value, _ in reversed(field.choices or ()):
        if value == current:
            continue
        candidate = copy.copy(obj)
        setattr(candidate, name, value)
        try:
            candidate.full_clean(validate_unique=False)
        except ValidationError:
            continue
        return value
    raise AssertionError(f"{obj._meta.label}.{name}: no other valid choice to move it to")


def _form_data(form) -> dict[str, object]:
    """What the edit page would post back unchanged."""
    data = {}
    for bound in form:
        value = bound.value()
        if value not in (None, False):
            data[bound.html_name] = "on" if value is True else value
    return data


def _check_approve(world, model, user, allowed, client_for, api_for):
    """Changing an approval field: API 403 and the page's field locked for a role without
    "approve" (even one that may change the rest); the change goes through for one with it."""
    obj = _make(world, model)
    app, name = _names(model)
    detail = reverse(f"{app}-api:{name}-detail", args=[obj.pk])
    may_change = granted(world, model, _role_of(world, user), Action.CHANGE)
    for field in model.approval_fields:
        before = _snapshot(model)
        value = _another_value(obj, field)
        answer = api_for(user).patch(detail, {field: value}, format="json").status_code
        yield f"API PATCH {field}", answer, {200} if allowed else {403}
        if not allowed:
            yield f"{field} unchanged (API)", _snapshot(model) == before, {True}
        obj.refresh_from_db()
        client = client_for(user)
        edit = reverse(f"{app}:{name}_edit", args=[obj.pk])
        page = client.get(edit)
        if not may_change:
            yield "UI edit GET", page.status_code, {403}
            continue
        yield f"UI {field} locked", page.context["form"].fields[field].disabled, {not allowed}
        value = _another_value(obj, field)
        posted = client.post(edit, {**_form_data(page.context["form"]), field: value})
        yield "UI edit POST", posted.status_code, {302}
        obj.refresh_from_db()
        yield f"UI {field} moved", getattr(obj, field) == value, {allowed}


def _role_of(world: World, user) -> str:
    return next(role for role in ROLES if getattr(world, role) == user)


def _route_names(patterns) -> list[str]:
    names: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names += _route_names(pattern.url_patterns)
        elif pattern.name:
            names.append(pattern.name)
    return names


def test_no_page_or_endpoint_approves_yet() -> None:
    """Approvals exist only as ``approval_fields`` (checked above); a page or endpoint that
    approves something else must join the matrix first."""
    names = [name for name in _route_names(get_resolver().url_patterns) if "approv" in name]
    assert not names, f"add Action.APPROVE to the access matrix for {names}"


OWNED = [m for m in MODELS if getattr(m, "owner_lookup", None)]


@pytest.mark.django_db
@pytest.mark.parametrize("model", OWNED, ids=_ids(OWNED))
def test_vendor_never_sees_another_vendors_rows(model, world, client_for, api_for) -> None:
    rivals = MAKERS[model](world.e1, world.crest)
    own = MAKERS[model](world.e1, world.acme)
    app, name = _names(model)
    detail = reverse(f"{app}-api:{name}-detail", args=[rivals.pk])
    assert client_for(world.vendor_lead).get(rivals.get_absolute_url()).status_code == 404
    assert api_for(world.vendor_lead).get(detail).status_code == 404
    listed = _api_ids(api_for(world.vendor_lead).get(reverse(f"{app}-api:{name}-list")))
    assert str(own.pk) in listed
    assert str(rivals.pk) not in listed
    # The client side sees both vendors.
    assert client_for(world.it_lead).get(rivals.get_absolute_url()).status_code == 200
    # And the rival's rows leave no trace in the vendor's view of the audit trail.
    audit = reverse("core-api:changelog-list") + "?limit=1000"
    rows = api_for(world.vendor_lead).get(audit).json()["results"]
    assert not [r for r in rows if r["object_id"] == str(rivals.pk) and r["object_type"] == name]
