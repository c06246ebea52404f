"""URLs of the seats pages (#18): included by renewals/urls.py under the same namespace."""

from django.urls import URLPattern, path

from renewals.usage import views as seats

urlpatterns: list[URLPattern] = [
    path("people/search/", seats.people_search, name="people-search"),
    path("subscriptions/<int:pk>/seats/assign/", seats.seat_assign, name="seat-assign"),
    path(
        "subscriptions/<int:pk>/seats/bulk-assign/",
        seats.seats_bulk_assign,
        name="seats-bulk-assign",
    ),
    path("seats/<int:pk>/revoke/", seats.seat_revoke, name="seat-revoke"),
    path("seats/<int:pk>/reassign/", seats.seat_reassign, name="seat-reassign"),
]
