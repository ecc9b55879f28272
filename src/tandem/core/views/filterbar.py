"""Fit a FilterSet's form (shared with the API) to the UI's filter bar."""

from __future__ import annotations

from typing import Any

from django import forms


def tidy_filter_form(form: Any) -> None:
    """Make a FilterSet's form fit a filter bar: checkboxes for multiple choices, date-time
    pickers, and the API's ``<fk>_id`` filters kept only as hidden inputs."""
    for name, field in form.fields.items():
        if isinstance(field, forms.MultipleChoiceField):
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        elif isinstance(field, forms.DateTimeField):
            field.widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
            field.label = _FILTER_LABELS.get(name, field.label)
        elif name.endswith("_id") or name in {"object_id", "request_id"}:
            field.widget = forms.HiddenInput()
        elif name == "q":
            field.widget.input_type = "search"
            field.widget.attrs["placeholder"] = "Search…"
        elif name == "object_type":
            field.widget.attrs["placeholder"] = "e.g. engagement"
    if "q" in form.fields:  # the search box first
        form.fields = {"q": form.fields.pop("q"), **form.fields}


_FILTER_LABELS = {"time_after": "From", "time_before": "Until"}
