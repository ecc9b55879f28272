"""UI routes of SLA policies and runs (included by ``tandem.service.urls``)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
