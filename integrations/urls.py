"""Integrations' pages (directory sources) and the endpoints outside systems call."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from integrations.callbacks import feishu as feishu_callback

app_name = "integrations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("callbacks/feishu/<int:source_id>/", feishu_callback.receive, name="callback-feishu"),
]
