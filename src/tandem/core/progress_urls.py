"""Routes for polling background work."""

app_name = "progress"

urlpatterns: list = []
