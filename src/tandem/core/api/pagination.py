"""Pagination for every list: ``limit`` and ``offset``, checked strictly.

``limit`` is a whole number from 1 to 1,000 (default 50) and ``offset`` one from 0 up; anything
else (``-1``, ``1.5``, ``null``, ``lots``, ``1001``) is a 400 naming the parameter, never
quietly replaced by a default. Whole tables go out through the CSV exports instead.

Two shapes of page, both with ``next`` and ``previous`` links and ``results``:

- ``Pagination`` (records: organizations, engagements, policies, runs…) adds ``count``,
  the number of rows the caller may see: one ``COUNT(*)`` over a few thousand rows;
- ``BulkPagination`` (the bulk tables of ``EngagementBulkModel``: tickets, holds,
  measurements, aggregates, credits, millions of rows) has no ``count``: it reads
  ``limit + 1`` rows and says there is a ``next`` page when the extra one exists, so a page
  costs the same whatever the table holds. The viewset picks the class from its model.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

MAX_LIMIT = 1000
# Far past any table, small enough for every database's OFFSET (a 64-bit integer).
MAX_OFFSET = 2**53
DIGITS = re.compile(r"[0-9]{1,20}")


def _whole_number(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.getlist(name)
    if not raw:
        return default
    if len(raw) > 1:
        raise ValidationError({name: [f"Give {name} once, not {len(raw)} times."]})
    value = raw[0]
    if not DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise ValidationError(
            {name: [f"{name} must be a whole number from {low} to {high:,}, not {value[:40]!r}."]}
        )
    return int(value)


class Pagination(LimitOffsetPagination):
    """``limit``/``offset`` pages of records, with ``count``."""

    default_limit = 50
    max_limit = MAX_LIMIT

    def get_limit(self, request: Request) -> int:
        return _whole_number(
            request, self.limit_query_param, default=self.default_limit, low=1, high=MAX_LIMIT
        )

    def get_offset(self, request: Request) -> int:
        return _whole_number(request, self.offset_query_param, default=0, low=0, high=MAX_OFFSET)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page: 1 to {MAX_LIMIT:,} (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "How many rows to skip (default 0).",
                "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            },
        ]


class BulkPagination(Pagination):
    """``limit``/``offset`` pages of a bulk table, without ``count``: ``limit + 1`` rows read."""

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        self.request = request
        self.limit = self.get_limit(request)
        self.offset = self.get_offset(request)
        rows = list(queryset[self.offset : self.offset + self.limit + 1])
        self.has_next = len(rows) > self.limit
        return rows[: self.limit]

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, self.limit_query_param, self.limit)
        return replace_query_param(url, self.offset_query_param, self.offset + self.limit)

    def get_previous_link(self) -> str | None:
        if self.offset <= 0:
            return None
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, self.limit_query_param, self.limit)
        if self.offset <= self.limit:
            return remove_query_param(url, self.offset_query_param)
        return replace_query_param(url, self.offset_query_param, self.offset - self.limit)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        del described["properties"]["count"]
        described["required"] = ["next", "previous", "results"]
        return described

    def get_html_context(self) -> dict[str, Any]:  # the browsable API's pager: no page count
        return {"previous_url": self.get_previous_link(), "next_url": self.get_next_link()}
