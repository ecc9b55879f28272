"""JSON errors everywhere: field errors for bad payloads, never an HTML 500 page.

Two shapes, declared in the schema (``tandem.core.api.schema``): a 400 is an object of
field name -> messages (``non_field_errors`` for the payload as a whole, ``detail`` for a body
that is not JSON at all); every other error is ``{"detail": "..."}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from tandem.core.services import NotAllowed


def field_errors(exc: DjangoValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as DRF field errors (``__all__`` -> ``non_field_errors``)."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if name == "__all__" else name): messages
        for name, messages in exc.message_dict.items()
    }


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _tandem_response(exc)
    if response is None:
        response = drf_exception_handler(exc, context)
        if response is not None and isinstance(response.data, list):
            # ValidationError("...") without a field: still an object, as the schema says.
            response.data = {api_settings.NON_FIELD_ERRORS_KEY: response.data}
        return response
    set_rollback()
    return response


def _tandem_response(exc: Exception) -> Response | None:
    if isinstance(exc, NotAllowed):
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, DjangoValidationError):
        return Response(field_errors(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ProtectedError | RestrictedError):
        used_by = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        return Response(
            {"detail": f"This record is still used by {', '.join(used_by)}; remove those first."},
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, IntegrityError):
        return Response(
            {"detail": "This conflicts with an existing record."},
            status=status.HTTP_409_CONFLICT,
        )
    return None
