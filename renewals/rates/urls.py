"""URLs of the exchange-rates page (#16.1 follow-up), included by renewals/urls.py under the same
namespace."""

from django.urls import URLPattern, path

from renewals.rates import views as rates

urlpatterns: list[URLPattern] = [
    path("exchange-rates/", rates.rate_list, name="rate-list"),
    path("exchange-rates/add/", rates.rate_add, name="rate-add"),
    path("exchange-rates/<int:pk>/", rates.rate_edit, name="rate-edit"),
    path("exchange-rates/<int:pk>/delete/", rates.rate_delete, name="rate-delete"),
]
