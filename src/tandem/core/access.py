"""Who may do what: the one permission table and the one queryset that applies it.

Access to an engagement comes only from a role in it. Each model names the *area* of the
table it belongs to (``scope_area``); a user may perform an action on a row when one of
their roles in the row's engagement grants that action in that area. Everything that lists
or fetches scoped rows - UI views, API viewsets, exports, search - goes through
``RestrictedQuerySet.restrict(user, action)``; nothing filters by hand.

Vendor privacy: rows owned by an organization (``owner_lookup``) that is a vendor are seen
only by that vendor's own people and by the client and advisor side, never by another
vendor in the same engagement.

Platform administrators (``is_staff``) manage organizations and users and see everything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Q

from tandem.core.choices import CLIENT_KINDS, Action, OrganizationKind, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tandem.core.models import Engagement, User

V, A, C, D, P = Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.APPROVE

_ROLES = (
    Role.SPONSOR,
    Role.IT_LEAD,
    Role.IT_STAFF,
    Role.VENDOR_LEAD,
    Role.VENDOR_STAFF,
    Role.OBSERVER,
)

# The table. Columns are the roles above, in that order; each cell lists the actions
# (v)iew (a)dd (c)hange (d)elete a(p)prove. Read a row as "in this area, who may do what".
# "terms" holds what decides how a party is measured or paid (SLA policy versions, which side
# works an assignment group; later contract terms, scope, escalation matrices): only the
# client's sponsor and IT lead change it - the measured party never changes its measurement.
# "Approve" on the engagement is moving its phase (``Engagement.approval_fields``). Opening an
# engagement is no role's: it is the organization-level right (``may_open_engagements``).
# Why each row is as it is: docs/permissions.md (tests check that it shows this table).
_TABLE = """
area          sponsor  it_lead  it_staff  vendor_lead  vendor_staff  observer
engagement    vcp      vc       v         v            v             v
people        vacd     vacd     v         v            v             v
records       vacp     vacdp    vac       vacd         vac           v
approvals     vp       vac      v         va           v             v
terms         vacd     vacd     v         v            v             v
audit         v        v        v         v            v             v
"""

_LETTERS = {"v": V, "a": A, "c": C, "d": D, "p": P}


def _parse(table: str) -> dict[str, dict[str, frozenset[str]]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0][1:], lines[1:]
    if tuple(header) != tuple(str(r) for r in _ROLES):
        raise ValueError(f"permission table columns {header} do not match the roles")
    parsed: dict[str, dict[str, frozenset[str]]] = {}
    for area, *cells in rows:
        if len(cells) != len(header):
            raise ValueError(f"permission table row {area!r} has {len(cells)} cells")
        parsed[area] = {
            role: frozenset(_LETTERS[ch] for ch in cell if ch != "-")
            for role, cell in zip(header, cells, strict=True)
        }
    return parsed


PERMISSIONS: dict[str, dict[str, frozenset[str]]] = _parse(_TABLE)


def roles_allowed(area: str, action: str) -> list[str]:
    """The roles that may perform ``action`` in ``area``."""
    try:
        row = PERMISSIONS[area]
    except KeyError:
        raise ValueError(f"unknown permission area {area!r}") from None
    return [role for role, actions in row.items() if action in actions]


def is_platform_admin(user: User | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def engagement_ids_for(user: User | AnonymousUser, area: str, action: str) -> Any:
    """A subquery of the engagements where ``user`` may do ``action`` in ``area``."""
    from tandem.core.models import RoleAssignment

    return RoleAssignment.objects.filter(
        user_id=user.pk, role__in=roles_allowed(area, action)
    ).values("engagement_id")


def vendor_privacy_filter(user: User | AnonymousUser, owner_lookup: str) -> Q:
    """Rows owned by another vendor are hidden from a vendor's people.

    ``owner_lookup`` is the path to the owning organization; ``"self"`` for organizations.
    """
    organization = getattr(user, "organization", None)
    if organization is None or organization.kind != OrganizationKind.VENDOR:
        return Q()
    kind, identity = (
        ("kind", "pk") if owner_lookup == "self" else (f"{owner_lookup}__kind", owner_lookup)
    )
    return ~Q(**{kind: OrganizationKind.VENDOR}) | Q(**{identity: organization.pk})


class RestrictedQuerySet(models.QuerySet):
    """The chokepoint: ``Model.objects.restrict(user, action)``.

    A model opts in with three class attributes:

    - ``scope_area``: its row of the permission table;
    - ``engagement_lookup``: the path from the model to its engagement's id (``"engagement"``,
      ``"pk"`` for the engagement itself), or ``None`` for models outside any engagement,
      which then define ``restrict_unscoped``;
    - ``owner_lookup``: the path to the organization that owns the row, for vendor privacy.
    """

    def restrict(self, user: User | AnonymousUser, action: str = Action.VIEW) -> Any:
        if not (user and user.is_authenticated and user.is_active):
            return self.none()
        if is_platform_admin(user):
            return self
        model = self.model
        lookup = getattr(model, "engagement_lookup", None)
        if lookup is None:
            restrict_unscoped = getattr(model, "restrict_unscoped", None)
            if restrict_unscoped is None:
                return self.none()
            return restrict_unscoped(self, user, action)
        area = model.scope_area
        queryset = self.filter(**{f"{lookup}__in": engagement_ids_for(user, area, action)})
        owner_lookup = getattr(model, "owner_lookup", None)
        if owner_lookup:
            queryset = queryset.filter(vendor_privacy_filter(user, owner_lookup))
        return queryset

    def visible_to(self, user: User | AnonymousUser) -> Any:
        return self.restrict(user, Action.VIEW)


def can(user: User | AnonymousUser, action: str, obj: models.Model) -> bool:
    """May ``user`` perform ``action`` on ``obj``? (One query; the same rule as lists.)"""
    manager = type(obj)._default_manager
    return bool(manager.all().restrict(user, action).filter(pk=obj.pk).exists())


def approval_refused(user: User | AnonymousUser, obj: models.Model) -> tuple[str, ...]:
    """The fields of ``obj`` that ``user`` may not change because changing them is an
    approval (``approval_fields``, e.g. an engagement's phase) and the table does not grant
    them "approve" on it; empty for a new row (its first value is no move)."""
    fields = tuple(getattr(type(obj), "approval_fields", ()))
    if not fields or obj.pk is None or can(user, Action.APPROVE, obj):
        return ()
    return fields


def can_add_anywhere(user: User | AnonymousUser, model: type[models.Model]) -> bool:
    """Could ``user`` add a ``model`` row anywhere? (Asked before a payload is read.)

    Engagements: an organization-level right, not a role (a role exists only inside an
    engagement): people of a client organization who hold ``may_open_engagements`` (their
    organization's administrators), for their own organization. Rows inside engagements: a
    role whose row of the table grants "add". Everything else (organizations, people):
    platform administrators only.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    if is_platform_admin(user):
        return True
    lookup = getattr(model, "engagement_lookup", None)
    if lookup == "pk":
        return may_open_engagements(user)
    if lookup is None:
        return False
    from tandem.core.models import RoleAssignment

    roles = roles_allowed(model.scope_area, Action.ADD)  # type: ignore[attr-defined]
    return RoleAssignment.objects.filter(user_id=user.pk, role__in=roles).exists()


def may_open_engagements(user: User | AnonymousUser) -> bool:
    """Does ``user`` hold, in effect, the organization-level right to open engagements?

    Granted explicitly by a platform administrator (no role implies it) and effective only
    for a person of a client organization (a vendor never opens the client's engagement)
    who is not an observer only: someone whose every role is observer reads and never
    writes, so the right is void for them even if granted.
    """
    if not (user and user.is_authenticated and user.is_active):
        return False
    organization = getattr(user, "organization", None)
    if not (
        getattr(user, "may_open_engagements", False)
        and organization is not None
        and organization.kind in CLIENT_KINDS
    ):
        return False
    return not only_observer(user)


def only_observer(user: User | AnonymousUser) -> bool:
    """Is every role ``user`` holds the observer's (and is there at least one)?"""
    from tandem.core.models import RoleAssignment

    roles = RoleAssignment.objects.filter(user_id=user.pk)
    return roles.exists() and not roles.exclude(role=Role.OBSERVER).exists()


def open_engagements_refusal(person: User, organization: Any) -> str:
    """Why ``person`` (of ``organization``) cannot be granted the right to open engagements,
    or "" when they can: the person form and the API's user serializer ask before saving."""
    if organization is None or organization.kind not in CLIENT_KINDS:
        return "Only people of a client organization open engagements (for their organization)."
    if person.pk is not None and only_observer(person):
        return "An observer reads and never writes: give them another role first."
    return ""


def can_add(user: User | AnonymousUser, model: type[models.Model], engagement: Engagement) -> bool:
    """May ``user`` add a ``model`` row to ``engagement``?"""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if is_platform_admin(user):
        return True
    from tandem.core.models import RoleAssignment

    return RoleAssignment.objects.filter(
        user_id=user.pk,
        engagement=engagement,
        role__in=roles_allowed(model.scope_area, Action.ADD),  # type: ignore[attr-defined]
    ).exists()
