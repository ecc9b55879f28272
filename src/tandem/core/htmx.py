"""One helper decides between a partial and a full page (django-htmx's ``request.htmx``)."""

from __future__ import annotations

from django.http import HttpRequest


def htmx_partial(request: HttpRequest, template_name: str) -> str:
    """For an htmx request that targets part of a page, render ``htmx/<name>`` instead.

    Only list pages have partials (the table body that filters and sorting swap): the
    generic list template, and any list page whose filters, sorting or paging target
    ``#table-region`` (a list with its own template extending the generic one). Other
    templates render whole either way, which htmx handles with ``hx-select``.
    """
    htmx = getattr(request, "htmx", None)
    if htmx and (template_name == "generic/object_list.html" or htmx.target == "table-region"):
        return "htmx/table_region.html"
    return template_name
