"""One helper decides between a partial and a full page (django-htmx's ``request.htmx``)."""

from __future__ import annotations

from django.http import HttpRequest


def htmx_partial(request: HttpRequest, template_name: str) -> str:
    """For an htmx request that targets part of a page, render ``htmx/<name>`` instead.

    Only list pages have partials (the table body that filters and sorting swap); other
    templates render whole either way, which htmx handles with ``hx-select``.
    """
    if getattr(request, "htmx", False) and template_name == "generic/object_list.html":
        return "htmx/table_region.html"
    return template_name
