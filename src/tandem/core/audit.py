"""Writing the audit trail.

Every create, update and delete of an audited model (``ChangeLoggedModel`` subclasses and
users) writes a ``ChangeLog`` row inside the same transaction, whatever made the change: a
page, the API, the admin, an import, a task or a command. The actor, source, request id
and client address come from the current *audit context*: the middleware opens one per
request; commands and tasks open their own with ``audit_context(...)``. A write outside any
context is still recorded, as the "system".

Bulk operations (``QuerySet.update``/``bulk_create``) bypass model signals; code that uses
them must call ``record`` itself (imports write one summary record per batch).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save
from django.http import HttpRequest

from tandem.core.choices import AuditAction, AuditSource

SYSTEM_ACTOR = "system"


@dataclass
class AuditContext:
    """Who is acting and from where, for every record written while it is current."""

    source: str
    user: Any = None
    user_name: str = ""
    request: HttpRequest | None = None
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    client_address: str | None = None

    def actor(self) -> tuple[Any, str]:
        user = self.user
        if user is None and self.request is not None:
            user = getattr(self.request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user, self.user_name or f"{user} <{user.email}>"
        return None, self.user_name or SYSTEM_ACTOR


_current: ContextVar[AuditContext | None] = ContextVar("tandem_audit_context", default=None)


def current() -> AuditContext:
    return _current.get() or AuditContext(source=AuditSource.SYSTEM)


@contextmanager
def audit_context(
    *,
    source: str,
    user: Any = None,
    user_name: str = "",
    request: HttpRequest | None = None,
    client_address: str | None = None,
) -> Iterator[AuditContext]:
    """Attribute every write inside the block to ``user`` (or ``user_name``) via ``source``."""
    context = AuditContext(
        source=source,
        user=user,
        user_name=user_name,
        request=request,
        client_address=client_address,
    )
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


# Models of installed libraries that are audited too, with the fields never to store.
# Two-factor authenticators matter to a HIPAA audit; their secrets stay out of the trail.
EXTRA_AUDITED: dict[str, frozenset[str]] = {"mfa.authenticator": frozenset({"data"})}


def is_audited(model: type[models.Model]) -> bool:
    from tandem.core.models import ChangeLoggedModel, User

    return issubclass(model, ChangeLoggedModel | User) or model._meta.label_lower in EXTRA_AUDITED


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The instance's concrete field values, JSON-safe, without the excluded (secret) fields."""
    excluded = set(getattr(instance, "audit_exclude", ()))
    excluded |= EXTRA_AUDITED.get(instance._meta.label_lower, frozenset())
    data = {
        f.name: f.value_from_object(instance)
        for f in instance._meta.concrete_fields
        if f.name not in excluded and f.name not in {"created", "last_updated"}
    }
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))  # type: ignore[no-any-return]


def record(
    instance: models.Model,
    *,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    message: str = "",
) -> Any:
    """Append one record for ``instance`` in the current audit context."""
    from tandem.core.models import ChangeLog

    context = current()
    user, user_name = context.actor()
    engagement_id = getattr(instance, "audit_engagement_id", lambda: None)()
    owner_id = getattr(instance, "audit_owner_id", None)
    if owner_id is not None:
        owner_id = owner_id()
    elif hasattr(instance, "user"):  # a library model belonging to a person
        owner_id = getattr(instance.user, "organization_id", None)
    return ChangeLog.objects.create(
        user=user,
        user_name=user_name[:200],
        request_id=context.request_id,
        client_address=context.client_address,
        source=context.source,
        action=action,
        content_type=ContentType.objects.get_for_model(instance),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        engagement_id=engagement_id,
        owner_organization_id=owner_id,
        prechange_data=before,
        postchange_data=after,
        message=message[:300],
    )


def _before_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if kwargs.get("raw") or not is_audited(sender):
        return
    instance._audit_before = None  # type: ignore[attr-defined]
    if instance.pk is not None and not instance._state.adding:
        old = sender._base_manager.filter(pk=instance.pk).first()
        if old is not None:
            instance._audit_before = snapshot(old)  # type: ignore[attr-defined]


def _after_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if kwargs.get("raw") or not is_audited(sender):
        return
    after = snapshot(instance)
    before = None if created else getattr(instance, "_audit_before", None)
    if not created and before == after:
        return  # nothing a person would call a change (e.g. a login stamping last_login)
    record(
        instance,
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        before=before,
        after=after,
    )


def _after_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not is_audited(sender):
        return
    record(instance, action=AuditAction.DELETE, before=snapshot(instance), after=None)


def history_of(obj: models.Model) -> Any:
    """The audit records of one object, newest first."""
    from tandem.core.models import ChangeLog

    return ChangeLog.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk)
    )


def _signed_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    with _request_context(request, user):
        record(user, action=AuditAction.LOGIN, before=None, after=None)


def _signed_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        with _request_context(request, user):
            record(user, action=AuditAction.LOGOUT, before=None, after=None)


def _sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    """A failed sign-in for an existing account is recorded against it (log-in monitoring,
    HIPAA 164.308(a)(5)(ii)(C)); attempts on unknown addresses name no one and are skipped."""
    from tandem.core.models import User

    login = str(credentials.get("email") or credentials.get("username") or "").strip().lower()
    user = User.objects.filter(email=login).first() if login else None
    if user is None:
        return
    with _request_context(request, None, user_name=f"unauthenticated <{login}>"):
        record(user, action=AuditAction.LOGIN_FAILED, before=None, after=None)


@contextmanager
def _request_context(request: Any, user: Any, user_name: str = "") -> Iterator[AuditContext]:
    context = _current.get()
    address = context.client_address if context else None
    if address is None and request is not None:
        from tandem.core.middleware import client_address

        address = client_address(request)
    with audit_context(
        source=context.source if context else AuditSource.WEB,
        user=user,
        user_name=user_name,
        client_address=address,
    ) as inner:
        if context is not None:
            inner.request_id = context.request_id
        yield inner


def connect_signals() -> None:
    from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

    user_logged_in.connect(_signed_in, dispatch_uid="tandem_audit_login")
    user_logged_out.connect(_signed_out, dispatch_uid="tandem_audit_logout")
    user_login_failed.connect(_sign_in_failed, dispatch_uid="tandem_audit_login_failed")
    # Each audited model gets its own receivers, never all models at once: a model without
    # delete receivers (the bulk tables: tickets, holds, measurements) is then deleted by
    # Django's collector in one statement per table, where a global receiver would make it
    # load every row into Python first (a million tickets with their engagement).
    for model in apps.get_models():
        if not is_audited(model):
            continue
        label = model._meta.label_lower
        pre_save.connect(_before_save, sender=model, dispatch_uid=f"tandem_audit_pre_{label}")
        post_save.connect(_after_save, sender=model, dispatch_uid=f"tandem_audit_post_{label}")
        post_delete.connect(
            _after_delete, sender=model, dispatch_uid=f"tandem_audit_delete_{label}"
        )
