"""The generic access test: every engagement-scoped model, through UI, API and export.

For each model registered in ``tandem.core.testing.registry`` (and every scoped model must
be registered), with the two-engagement world of ``tandem.core.testing.world``:

- a person with no role in the engagement gets 404 - not 403, not data - on the UI detail
  page, the API detail, the engagement's list export, and never finds the object in an
  API list;
- an observer of the engagement gets 403 on every write, through UI and API, and nothing
  changes (not even the audit trail);
- a vendor never sees an object owned by another vendor of the same engagement.

Conventions it relies on: ``get_absolute_url()``; UI names ``<app>:<model>_edit``,
``<app>:<model>_delete``, ``<app>:<model>_list`` (``engagement_pk`` for scoped models);
API names ``<app>-api:<model>-list`` / ``-detail``.
"""

from __future__ import annotations

import pytest
from django.db import models
from django.urls import NoReverseMatch, reverse

from tandem.core.models import ChangeLog, Engagement
from tandem.core.testing.registry import load_all_makers, scoped_models
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


def _refused(model: type[models.Model]) -> set[int]:
    """What a refused write answers: 403 (the role may not) or, for read-only bulk data that
    nobody writes through the API, 405."""
    return {403} if _writable(model) else {405}


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


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=_ids(MODELS))
class TestObserverGets403:
    def test_ui_writes(self, model, world, client_for) -> None:
        obj = _make(world, model)
        app, name = _names(model)
        before = ChangeLog.objects.changes().count()
        client = client_for(world.observer)
        assert client.get(obj.get_absolute_url()).status_code == 200
        if not _writable(model):
            return  # no write pages exist (TestOutsiderGets404 proves it)
        for action in ("edit", "delete"):
            url = reverse(f"{app}:{name}_{action}", args=[obj.pk])
            assert client.get(url).status_code == 403, url
            assert client.post(url, {}).status_code == 403, url
        if model is not Engagement:
            add = reverse(f"{app}:{name}_add", args=[world.e1.pk])
            assert client.post(add, {}).status_code == 403
        assert model._default_manager.filter(pk=obj.pk).exists()
        assert ChangeLog.objects.changes().count() == before

    def test_api_writes(self, model, world, api_for) -> None:
        obj = _make(world, model)
        app, name = _names(model)
        before = ChangeLog.objects.changes().count()
        api = api_for(world.observer)
        url = reverse(f"{app}-api:{name}-detail", args=[obj.pk])
        assert api.get(url).status_code == 200
        refused = _refused(model)
        assert api.patch(url, {}, format="json").status_code in refused
        assert api.put(url, {}, format="json").status_code in refused
        assert api.delete(url).status_code in refused
        if not _writable(model):  # nobody writes bulk data through the API, not even a lead
            assert api_for(world.it_lead).delete(url).status_code == 405
        assert model._default_manager.filter(pk=obj.pk).exists()
        assert ChangeLog.objects.changes().count() == before


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
