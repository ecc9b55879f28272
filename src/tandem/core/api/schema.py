"""The schema declares the errors every operation can answer, with two shared components.

drf-spectacular documents what a view returns when it succeeds; this small ``AutoSchema``
subclass adds the error answers Tandem's views and error handler (``errors.py``) give, by
rule rather than per view (STYLE.md: ``@extend_schema`` only on custom actions):

- 400 ``ValidationError`` (field -> messages): writes, and lists (filters, ``limit``,
  ``offset``); 415 for a write's body in a media type the API does not read;
- 401 and 403 ``Error``: every operation that needs a signed-in caller (401 without valid
  credentials; 403 for a role without the right, or an administrator without a verified
  second factor);
- 404 ``Error``: every path with an id (outside the caller's scope is a 404 too);
- 409 ``Error``: writes of model viewsets (a row still in use, a frozen version, a conflict).

An operation that declares one of these codes itself keeps its description; a declared code
without a body gets the shared one.

It also adds OpenAPI links from what names a record to the operations on that record: from
a create's answer (``id``) and from a list's first row (``results/0/id``) to the retrieve,
update, partial update and destroy of the same viewset. Clients may follow them; schemathesis'
stateful tests do (``tests/test_api_live.py``). Kept small on purpose: NetBox's AutoSchema is
431 lines.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny
from rest_framework.viewsets import GenericViewSet

ERROR = {
    "type": "object",
    "description": "What went wrong, in a sentence.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
VALIDATION_ERROR = {
    "type": "object",
    "description": (
        "Each field in error with its messages; `non_field_errors` for the payload as a whole; "
        "`detail` for a body that is not JSON."
    ),
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {}},
            {"type": "object", "additionalProperties": {}},
            {"type": "string"},
        ]
    },
}
DESCRIPTIONS = {
    "400": "Bad input: each field or parameter in error, with its messages. Nothing changed.",
    "401": "No credentials, or a token that is unknown, expired or revoked.",
    "403": "Not allowed: your role may not do this, or a second factor is needed.",
    "404": "No such record, or not one you may see.",
    "409": "Conflicts with the record's current state (still in use, frozen, a duplicate).",
    "415": "The body is not in a media type the API reads (JSON, form or multipart).",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# The detail actions a link can lead to, with the HTTP method each one needs.
DETAIL_ACTIONS = {
    "retrieve": "get",
    "update": "put",
    "partial_update": "patch",
    "destroy": "delete",
}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            self._add_links(operation)
        return operation

    def _add_links(self, operation: dict[str, Any]) -> None:
        action = getattr(self.view, "action", None)
        if action == "create":
            pointer = "$response.body#/id"
        elif action == "list" and getattr(self.view, "paginator", None) is not None:
            pointer = "$response.body#/results/0/id"
        else:
            return
        prefix = operation["operationId"].removesuffix(f"_{action}")
        allowed = set(self.view.http_method_names)
        links = {
            detail: {"operationId": f"{prefix}_{detail}", "parameters": {"id": pointer}}
            for detail, method in DETAIL_ACTIONS.items()
            if hasattr(self.view, detail) and method in allowed
        }
        for code, response in operation["responses"].items():
            if code.startswith("2") and links and "content" in response:
                response["links"] = links

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            responses.setdefault(code, {"description": DESCRIPTIONS[code]})
        for code, response in responses.items():
            if code.startswith("4") and "content" not in response:
                component = self._component("ValidationError" if code == "400" else "Error")
                response["content"] = {"application/json": {"schema": component.ref}}
        return responses

    def _error_codes(self) -> list[str]:
        method = self.method.upper()
        codes = []
        if method in WRITES - {"DELETE"} or (method == "GET" and self._is_list_view()):
            codes.append("400")
        if self.view.get_authenticators() and not all(
            isinstance(permission, AllowAny) for permission in self.view.get_permissions()
        ):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if method in WRITES and isinstance(self.view, GenericViewSet):
            codes.append("409")
        if method in WRITES - {"DELETE"}:
            codes.append("415")
        return codes

    def _component(self, name: str) -> ResolvedComponent:
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema=VALIDATION_ERROR if name == "ValidationError" else ERROR,
        )
        self.registry.register_on_missing(component)
        return component
