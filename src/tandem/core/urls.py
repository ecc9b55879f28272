"""UI routes of the core app (written by hand: grep finds every route)."""

from django.urls import path

app_name = "core"

urlpatterns: list = []
