"""Template helpers of the UI shell: object URLs by convention, badges, audit values."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.text import capfirst

from tandem.core.views.lifecycle import phase_steps

register = template.Library()


def _url_name(model: type[models.Model] | models.Model, action: str) -> str:
    meta = model._meta
    return f"{meta.app_label}:{meta.model_name}_{action}"


@register.simple_tag
def object_url(obj: models.Model, action: str) -> str:
    """``{% object_url object "edit" %}``: ``<app>:<model>_<action>`` for this object, or ""."""
    if obj is None or getattr(obj, "pk", None) is None:
        return ""
    try:
        return reverse(_url_name(obj, action), args=[obj.pk])
    except NoReverseMatch:
        return ""


@register.simple_tag
def list_url(model: Any, engagement: Any = None) -> str:
    """The list page of ``model`` (a class or an instance), inside ``engagement`` if given."""
    name = _url_name(model, "list")
    if engagement is not None and getattr(model, "engagement_lookup", None) not in (None, "pk"):
        try:
            return reverse(name, args=[engagement.pk])
        except NoReverseMatch:
            pass
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


@register.filter
def verbose_name(obj: Any, plural: bool = False) -> str:
    meta = obj._meta
    return str(meta.verbose_name_plural if plural else meta.verbose_name)


@register.simple_tag
def badge(kind: str, value: str, label: Any = None) -> str:
    return format_html(
        '<span class="badge badge-{} badge-{}-{}">{}</span>', kind, kind, value, label or value
    )


@register.simple_tag
def steps_for(engagement: Any) -> list[dict[str, Any]]:
    return phase_steps(engagement) if engagement is not None else []


@register.filter
def audit_value(value: Any) -> str:
    """A before/after value of the audit trail, readable."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


@register.filter
def field_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


@register.filter
def model_label(content_type: Any) -> str:
    model = content_type.model_class()
    return capfirst(str(model._meta.verbose_name)) if model else content_type.model


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def money(value: Any, currency: Any = "") -> str:
    """An amount as an invoice prints it: thousands separated, two places, exact (1,500.00),
    and its currency when given (``|money:line.currency`` -> "1,500.00 USD"). Decimals are
    formatted as decimals, never through a float."""
    if value is None or value == "":
        return "—"
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    text = f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"
    return f"{text} {currency}" if currency else text


@register.filter
def num(value: Any, places: Any = 0) -> str:
    """A count or quantity as a board reads it, the same in every locale and setting:
    thousands separated by commas (12,345), ``places`` decimals (``|num:1`` -> 1,234.5).
    Integers stay exact; decimals are formatted as decimals, never through a float;
    nothing (None, "") is "—"; text that is not a number is shown as it is."""
    if value is None or value == "" or isinstance(value, bool):
        return "—" if value is None or value == "" else str(value)
    try:
        digits = max(0, int(places))
    except (TypeError, ValueError):
        digits = 0
    if isinstance(value, int):
        return f"{value:,}" if not digits else f"{Decimal(value):,.{digits}f}"
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite():
        return str(value)
    exponent = Decimal(1).scaleb(-digits)
    return f"{amount.quantize(exponent, rounding=ROUND_HALF_UP):,.{digits}f}"
