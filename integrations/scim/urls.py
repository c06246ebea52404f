"""/scim/v2/...: every path goes to the one SCIM view (scim2-server routes inside it)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, re_path

from integrations.scim import views

app_name = "scim"

urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^(?P<path>.*)$", views.endpoint, name="endpoint"),
]
