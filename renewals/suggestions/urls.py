"""URLs of the suggestions pages (#8), included by renewals/urls.py under the same namespace."""

from django.urls import URLPattern, path

from renewals.suggestions import views as suggestions

urlpatterns: list[URLPattern] = [
    path("suggestions/", suggestions.suggestion_list, name="suggestion-list"),
    path("suggestions/add/", suggestions.suggestion_add, name="suggestion-add"),
    path("suggestions/<int:pk>/", suggestions.suggestion_detail, name="suggestion-detail"),
    path("suggestions/<int:pk>/decide/", suggestions.suggestion_decide, name="suggestion-decide"),
    path(
        "suggestions/<int:pk>/realise/", suggestions.suggestion_realise, name="suggestion-realise"
    ),
]
