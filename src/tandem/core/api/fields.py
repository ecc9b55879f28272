"""Serializer fields that respect the caller's scope."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

from tandem.core.choices import Action


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key that accepts only ids the requesting user may see.

    An id outside the caller's scope is answered exactly like one that does not exist
    ("Invalid pk ... object does not exist"), so a write never confirms that it exists.
    """

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        request = self.context.get("request")
        if request is None:
            return queryset.none()
        return queryset.all().restrict(request.user, Action.VIEW)

    def to_internal_value(self, data: Any) -> Any:
        if self._integer_pk() and not _looks_like_integer(data):
            self.fail("incorrect_type", data_type=type(data).__name__)
        try:
            return super().to_internal_value(data)
        except OverflowError:  # an id larger than the database can hold
            self.fail("does_not_exist", pk_value=data)

    def _integer_pk(self) -> bool:
        queryset = self.queryset
        return queryset is not None and isinstance(queryset.model._meta.pk, models.IntegerField)


def _looks_like_integer(data: Any) -> bool:
    if isinstance(data, bool):
        return False
    if isinstance(data, int):
        return True
    return isinstance(data, str) and data.isascii() and data.strip().isdigit()


class StrictCharField(serializers.CharField):
    """Text must arrive as a JSON string: ``123`` for a name is a type error, not "123"."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictEmailField(StrictCharField, serializers.EmailField):
    pass


class StrictURLField(StrictCharField, serializers.URLField):
    pass


STRICT_TEXT_FIELDS = {
    models.CharField: StrictCharField,
    models.TextField: StrictCharField,
    models.EmailField: StrictEmailField,
    models.URLField: StrictURLField,
}
