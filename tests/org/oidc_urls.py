"""The project's URLs plus mozilla-django-oidc's, as they are when OIDC_RP_CLIENT_ID is set."""

from __future__ import annotations

from django.urls import include, path

from config.urls import urlpatterns as project_urls

urlpatterns = [path("oidc/", include("mozilla_django_oidc.urls")), *project_urls]
