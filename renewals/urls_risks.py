"""URLs of the risks pages (#8), included by renewals/urls.py under the same namespace."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
