from django.urls import path

from renewals.views import calendar, channels, imports, inventory, notifications

app_name = "renewals"
urlpatterns = [
    path("subscriptions/", inventory.subscription_list, name="subscription-list"),
    path("subscriptions/<int:pk>/", inventory.subscription_detail, name="subscription-detail"),
    path("vendors/", inventory.vendor_list, name="vendor-list"),
    path("vendors/<int:pk>/", inventory.vendor_detail, name="vendor-detail"),
    path("people/<int:pk>/", inventory.person_detail, name="person-detail"),
    path("findings/", inventory.findings, name="findings"),
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
