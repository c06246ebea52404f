"""URLs of the cleanup pages (#8), included by renewals/urls.py under the same namespace."""

from django.urls import URLPattern, path

from renewals.cleanup import views as cleanup

urlpatterns: list[URLPattern] = [
    path("cleanup/", cleanup.campaign_list, name="cleanup-list"),
    path("cleanup/open/", cleanup.campaign_open, name="cleanup-open"),
    path("cleanup/<int:pk>/", cleanup.campaign_detail, name="cleanup-detail"),
    path("cleanup/<int:pk>/close/", cleanup.campaign_close, name="cleanup-close"),
    path("cleanup/<int:pk>/report/", cleanup.campaign_report, name="cleanup-report"),
    path("cleanup/<int:pk>/report.pdf", cleanup.campaign_report_pdf, name="cleanup-report-pdf"),
    path(
        "cleanup/<int:pk>/departments/<int:department_pk>/",
        cleanup.checklist,
        name="cleanup-checklist",
    ),
    path(
        "cleanup/<int:pk>/items/<int:item_pk>/decide/",
        cleanup.item_decide,
        name="cleanup-decide",
    ),
]
