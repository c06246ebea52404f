from django.urls import path

from renewals.bulk import views as bulk
from renewals.cleanup import urls as urls_cleanup
from renewals.execution import views as execution
from renewals.imports import views as imports
from renewals.inventory import views as inventory
from renewals.notify.views import calendar, channels, notifications
from renewals.pages import views as pages
from renewals.rates import urls as urls_rates
from renewals.reports import urls as urls_briefings
from renewals.reports.views import kpis
from renewals.requests.views import intake, requests, tiers
from renewals.risks import urls as urls_risks
from renewals.seats import urls as urls_seat_requests
from renewals.suggestions import urls as urls_suggestions
from renewals.usage import urls as urls_seats

app_name = "renewals"
urlpatterns = [
    path("subscriptions/", inventory.subscription_list, name="subscription-list"),
    path("subscriptions/bulk/", bulk.subscriptions_bulk, name="subscriptions-bulk"),
    path("seats/bulk/", bulk.seats_bulk, name="seats-bulk"),
    path("subscriptions/add/", inventory.subscription_add, name="subscription-add"),
    path("subscriptions/<int:pk>/", pages.subscription_detail, name="subscription-detail"),
    path("subscriptions/<int:pk>/edit/", inventory.subscription_edit, name="subscription-edit"),
    path(
        "subscriptions/<int:pk>/archive/",
        execution.subscription_archive,
        name="subscription-archive",
    ),
    path("subscriptions/<int:pk>/renew/", requests.request_create, name="request-create"),
    path("requests/", requests.request_list, name="request-list"),
    path("requests/new/", intake.new_purchase, name="new-purchase"),
    path("requests/new/overlap/", intake.new_purchase_overlap, name="new-purchase-overlap"),
    path(
        "requests/<int:pk>/join/<int:subscription_pk>/",
        pages.new_purchase_join,
        name="new-purchase-join",
    ),
    path("requests/<int:pk>/", requests.request_detail, name="request-detail"),
    path("requests/<int:pk>/edit/", requests.request_edit, name="request-edit"),
    path("requests/<int:pk>/quotes/add/", requests.quote_edit, name="quote-add"),
    path("requests/<int:pk>/quotes/<int:quote_pk>/", requests.quote_edit, name="quote-edit"),
    path(
        "requests/<int:pk>/quotes/<int:quote_pk>/delete/",
        requests.quote_delete,
        name="quote-delete",
    ),
    path(
        "requests/<int:pk>/quotes/<int:quote_pk>/choose/",
        requests.quote_choose,
        name="quote-choose",
    ),
    path("requests/<int:pk>/submit/", requests.request_submit, name="request-submit"),
    path("requests/<int:pk>/decide/", requests.request_decide, name="request-decide"),
    path("requests/<int:pk>/cancel/", requests.request_cancel, name="request-cancel"),
    path("requests/<int:pk>/assess/", requests.request_assess, name="request-assess"),
    path("requests/<int:pk>/execute/", execution.request_execute, name="request-execute"),
    path("requests/<int:pk>/report.pdf", requests.request_pdf, name="request-pdf"),
    path("approvals/", bulk.approval_inbox, name="approval-inbox"),
    path("approvals/bulk/", bulk.approvals_bulk, name="approvals-bulk"),
    path("approval-tiers/", tiers.tier_list, name="tier-list"),
    path("approval-tiers/add/", tiers.tier_edit, name="tier-add"),
    path("approval-tiers/<int:pk>/", tiers.tier_edit, name="tier-edit"),
    path("approval-tiers/<int:pk>/delete/", tiers.tier_delete, name="tier-delete"),
    path("vendors/", inventory.vendor_list, name="vendor-list"),
    path("vendors/<int:pk>/", inventory.vendor_detail, name="vendor-detail"),
    path("vendors/add/", inventory.vendor_add, name="vendor-add"),
    path("vendors/<int:pk>/edit/", inventory.vendor_edit, name="vendor-edit"),
    path("vendors/<int:pk>/archive/", inventory.vendor_archive, name="vendor-archive"),
    path("vendors/<int:pk>/restore/", inventory.vendor_restore, name="vendor-restore"),
    path("subscriptions/<int:pk>/modules/add/", inventory.module_add, name="module-add"),
    path("modules/<int:pk>/edit/", inventory.module_edit, name="module-edit"),
    path("modules/<int:pk>/archive/", inventory.module_archive, name="module-archive"),
    path("modules/<int:pk>/restore/", inventory.module_restore, name="module-restore"),
    path("people/<int:pk>/", pages.person_detail, name="person-detail"),
    path("findings/", pages.findings, name="findings"),
    path("my-software/", pages.my_software, name="my-software"),
    path("kpis/<slug:figure>/", kpis.kpi_rows, name="kpi-rows"),
    path("calendar/", calendar.calendar_month, name="calendar"),
    path("calendar/feed/reset/", calendar.calendar_feed_reset, name="calendar-feed-reset"),
    path("calendar/feed/revoke/", calendar.calendar_feed_revoke, name="calendar-feed-revoke"),
    path("calendar/feed/<str:token>.ics", calendar.calendar_feed, name="calendar-feed"),
    path("notifications/", notifications.notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", notifications.notification_read, name="notification-read"),
    path(
        "notifications/read-all/", notifications.notification_read_all, name="notification-read-all"
    ),
    path("channels/", channels.channel_list, name="channel-list"),
    path("channels/add/", channels.channel_edit, name="channel-add"),
    path("channels/<int:pk>/", channels.channel_edit, name="channel-edit"),
    path("channels/<int:pk>/delete/", channels.channel_delete, name="channel-delete"),
    path("imports/", imports.import_list, name="import-list"),
    path("imports/<uuid:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<uuid:pk>/commit/", imports.import_commit, name="import-commit"),
    path("imports/<uuid:pk>/cancel/", imports.import_cancel, name="import-cancel"),
    path("imports/templates/<slug:kind>.csv", imports.import_template, name="import-template"),
]

# Reports and oversight (#8): each part keeps its URLs in its own module.
for _part in (urls_briefings, urls_cleanup, urls_rates, urls_risks, urls_suggestions):
    urlpatterns += _part.urlpatterns
# Seats in the app (#18): assign, bulk-assign, revoke, reassign, the person picker.
urlpatterns += urls_seats.urlpatterns
# Seat requests (#18): ask, the inbox (grant, decline, ask for more seats), withdraw.
urlpatterns += urls_seat_requests.urlpatterns
