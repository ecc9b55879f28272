"""One helper decides between a partial and a full page (django-htmx's ``request.htmx``)."""

from __future__ import annotations

from django.http import HttpRequest


def htmx_partial(request: HttpRequest, template_name: str, *, list_page: bool = False) -> str:
    """For an htmx request to a list page, render ``htmx/table_region.html`` instead.

    Only list pages have a partial (the table region that filters, sorting and paging swap),
    whatever template the page itself extends; other pages render whole either way, which
    htmx handles with ``hx-select``.
    """
    if list_page and getattr(request, "htmx", False):
        return "htmx/table_region.html"
    return template_name
