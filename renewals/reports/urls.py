"""URLs of the briefings pages (#8), included by renewals/urls.py under the same namespace."""

from django.urls import URLPattern, path

from renewals.reports.views import briefings

# ``month`` is YYYY-MM; anything else is a 404 (views.briefings.parse_month).
urlpatterns: list[URLPattern] = [
    path("briefings/", briefings.briefing_list, name="briefing-list"),
    path(
        "briefings/<int:department>/<str:month>/",
        briefings.briefing_detail,
        name="briefing-detail",
    ),
    path(
        "briefings/<int:department>/<str:month>/pdf/",
        briefings.briefing_request,
        name="briefing-request",
    ),
    path("briefings/pdf/<int:pk>/", briefings.briefing_status, name="briefing-status"),
    path("briefings/pdf/<int:pk>/download/", briefings.briefing_download, name="briefing-download"),
]
