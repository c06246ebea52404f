"""Integrations' pages (directory sources, usage connectors) and the endpoints outside systems call."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from integrations import views
from integrations.callbacks import dingtalk as dingtalk_callback
from integrations.callbacks import feishu as feishu_callback
from integrations.callbacks import wecom as wecom_callback
from integrations.chat import views as chat_views
from integrations.connectors import views as connector_views

app_name = "integrations"

urlpatterns: list[URLPattern | URLResolver] = [
    path("directory/", views.source_list, name="source-list"),
    path("directory/add/", views.source_edit, name="source-add"),
    path("directory/<int:pk>/", views.source_detail, name="source-detail"),
    path("directory/<int:pk>/edit/", views.source_edit, name="source-edit"),
    path("directory/<int:pk>/sync/", views.source_sync, name="source-sync"),
    path("directory/<int:pk>/remove/", views.source_remove, name="source-remove"),
    path("directory/<int:pk>/runs/<int:run_pk>/", views.run_decide, name="run-decide"),
    path("directory/<int:pk>/tokens/", views.token_create, name="token-create"),
    path(
        "directory/<int:pk>/tokens/<int:token_pk>/revoke/", views.token_revoke, name="token-revoke"
    ),
    path("connectors/", connector_views.connector_list, name="connector-list"),
    path("connectors/add/", connector_views.connector_edit, name="connector-add"),
    path("connectors/<int:pk>/", connector_views.connector_detail, name="connector-detail"),
    path("connectors/<int:pk>/edit/", connector_views.connector_edit, name="connector-edit"),
    path("connectors/<int:pk>/sync/", connector_views.connector_sync, name="connector-sync"),
    path(
        "connectors/<int:pk>/accounts/<int:account_pk>/map/",
        connector_views.account_map,
        name="connector-account-map",
    ),
    path("connectors/<int:pk>/revoke/", connector_views.account_revoke, name="connector-revoke"),
    path("connectors/<int:pk>/remove/", connector_views.connector_remove, name="connector-remove"),
    path(
        "connectors/<int:pk>/revocations/confirm/",
        connector_views.revocations_confirm,
        name="connector-revocations-confirm",
    ),
    path(
        "connectors/<int:pk>/revocations/<int:revocation_pk>/undo/",
        connector_views.revocation_undo,
        name="connector-revocation-undo",
    ),
    path("connectors/<int:pk>/playbook/", connector_views.playbook_edit, name="connector-playbook"),
    path("connectors/keep/<int:pk>/", connector_views.idle_keep, name="idle-keep"),
    path("chat/", chat_views.chat_app_list, name="chat-app-list"),
    path("chat/add/", chat_views.chat_app_edit, name="chat-app-add"),
    path("chat/<int:pk>/", chat_views.chat_app_detail, name="chat-app-detail"),
    path("chat/<int:pk>/edit/", chat_views.chat_app_edit, name="chat-app-edit"),
    path("chat/<int:pk>/remove/", chat_views.chat_app_remove, name="chat-app-remove"),
    path(
        "chat/<int:pk>/jobs/<int:job_pk>/retry/", chat_views.chat_job_retry, name="chat-job-retry"
    ),
    path("chat/<int:pk>/people/", chat_views.chat_people, name="chat-people"),
    path(
        "chat/<int:pk>/people/<int:identity_pk>/remove/",
        chat_views.chat_person_remove,
        name="chat-person-remove",
    ),
    path("chat/<int:app_id>/callback/", chat_views.chat_callback, name="chat-callback"),
    path("callbacks/feishu/<int:source_id>/", feishu_callback.receive, name="callback-feishu"),
    path(
        "callbacks/dingtalk/<int:source_id>/", dingtalk_callback.receive, name="callback-dingtalk"
    ),
    path("callbacks/wecom/<int:source_id>/", wecom_callback.receive, name="callback-wecom"),
]
