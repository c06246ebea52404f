"""URLs of the risks pages (#8), included by renewals/urls.py under the same namespace."""

from django.urls import URLPattern, path

from renewals.risks import views as risks

urlpatterns: list[URLPattern] = [
    path("risks/", risks.risk_list, name="risk-list"),
    path("risks/register.pdf", risks.risk_pdf, name="risk-pdf"),
    path("risks/add/", risks.risk_edit, name="risk-add"),
    path("risks/review/", risks.risk_review_list, name="risk-review-list"),
    path("risks/<int:pk>/", risks.risk_detail, name="risk-detail"),
    path("risks/<int:pk>/edit/", risks.risk_edit, name="risk-edit"),
    path("risks/<int:pk>/review/", risks.risk_review, name="risk-review"),
]
