"""URLs of the seat requests (#18), included by renewals/urls.py under the same namespace."""

from django.urls import URLPattern, path

from renewals.seats import views as seats

urlpatterns: list[URLPattern] = [
    path("seat-requests/", seats.seat_request_inbox, name="seat-request-inbox"),
    path("seat-requests/add/", seats.seat_request_add, name="seat-request-add"),
    path("seat-requests/<int:pk>/grant/", seats.seat_request_grant, name="seat-request-grant"),
    path(
        "seat-requests/<int:pk>/decline/", seats.seat_request_decline, name="seat-request-decline"
    ),
    path(
        "seat-requests/<int:pk>/escalate/",
        seats.seat_request_escalate,
        name="seat-request-escalate",
    ),
    path(
        "seat-requests/<int:pk>/withdraw/",
        seats.seat_request_withdraw,
        name="seat-request-withdraw",
    ),
]
