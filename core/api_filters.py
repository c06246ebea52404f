"""The API's filter backend (its own module: DRF imports it while it starts up)."""

from __future__ import annotations

import inspect
from typing import Any

from django_filters.rest_framework import DjangoFilterBackend


class ScopedFilterBackend(DjangoFilterBackend):
    """django-filter's backend, handing the request's user to FilterSets that take one: the list
    pages' FilterSets offer only the user's departments, and the API reuses them as they are."""

    def get_filterset_kwargs(self, request: Any, queryset: Any, view: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class and "user" in inspect.signature(filterset_class.__init__).parameters:
            kwargs["user"] = request.user
        return kwargs
