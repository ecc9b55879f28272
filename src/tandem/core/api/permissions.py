"""The API's permission class: the same table and queryset as the UI."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from tandem.core.access import can
from tandem.core.choices import Action

_METHOD_ACTIONS = {"PUT": Action.CHANGE, "PATCH": Action.CHANGE, "DELETE": Action.DELETE}


class ScopedPermission(BasePermission):
    """Signed-in users only; object writes need the action in the permission table.

    Reads are scoped by the viewset's ``restrict()`` queryset (out of scope is a 404 before
    this runs); a write on a visible object without the right is a 403.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_active)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        action = _METHOD_ACTIONS.get(request.method or "", Action.CHANGE)
        return can(request.user, action, obj)
