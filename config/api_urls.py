"""/api/v1/: every app's endpoints on one router, the OpenAPI 3 schema and its interactive docs
(Swagger UI from the vendored sidecar files; its start-up script is a file of its own, so the
Content-Security-Policy keeps forbidding inline scripts)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path, re_path
from django.utils.translation import gettext as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from budgets.api import ROUTES as BUDGET_ROUTES
from contracts.api import ROUTES as CONTRACT_ROUTES
from org.api import ROUTES as ORG_ROUTES
from renewals.api import ROUTES as RENEWAL_ROUTES

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False


router = Router()
for prefix, viewset, basename in [*ORG_ROUTES, *BUDGET_ROUTES, *RENEWAL_ROUTES, *CONTRACT_ROUTES]:
    router.register(prefix, viewset, basename=basename)


def not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under /api/v1/: the API's JSON 404, not the site's HTML page."""
    return JsonResponse({"detail": str(_("Not found."))}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    re_path(r"^(?P<rest>.*)$", not_found),
]
