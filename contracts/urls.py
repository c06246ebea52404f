from django.urls import path

from contracts import views
from contracts.terms import views as term_views

app_name = "contracts"
urlpatterns = [
    path("", views.contract_list, name="contract-list"),
    path("add/", views.contract_edit, name="contract-add"),
    path("<int:pk>/", views.contract_detail, name="contract-detail"),
    path("<int:pk>/edit/", views.contract_edit, name="contract-edit"),
    path("<int:pk>/documents/", views.document_upload, name="document-upload"),
    path("<int:pk>/apply-terms/", views.contract_apply_terms, name="contract-apply-terms"),
    path("<int:pk>/terms/<int:suggestion>/", views.term_decide, name="term-decide"),
    path("review/<int:pk>/", term_views.legal_review, name="legal-review"),
    path("documents/<int:pk>/", views.document_download, name="document-download"),
    path("integrity/run/", views.integrity_run, name="integrity-run"),
]
