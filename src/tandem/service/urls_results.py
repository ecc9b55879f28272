"""UI routes of what SLA runs found: dashboard, parity, breaches, at risk, credits,
measurements, aggregates, exports (included by ``tandem.service.urls``)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
