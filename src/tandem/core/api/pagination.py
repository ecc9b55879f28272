"""Pagination for every list: limit/offset, at most 1,000 rows a page.

A larger ``?limit=`` is capped rather than refused, so scripts paging through a big list
with a generous limit still work; exports of whole tables go through the CSV exports.
"""

from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 1000
