from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import audit_views, views
from org import views as org_views

# A 500 caused by the database being unreachable is a 503 page (config/unavailable.py).
handler500 = "config.unavailable.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("search/", views.search, name="search"),
    path("system/", views.system_status, name="system-status"),
    path("accounts/login/", org_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/password/reset/", org_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", org_views.switch_language, name="set-language"),
    path("org/", include("org.urls")),
    path("budgets/", include("budgets.urls")),
    path("contracts/", include("contracts.urls")),
    path("scim/v2/", include("integrations.scim.urls")),
    path("integrations/", include("integrations.urls")),
    path("", include("renewals.urls")),
    path("api/v1/", include("config.api_urls")),
    path("audit/", audit_views.audit_list, name="audit-list"),
    path("audit/<slug:kind>/<int:pk>/", audit_views.audit_object, name="audit-object"),
    path("admin/", admin.site.urls),
]

if settings.OIDC_ENABLED:
    urlpatterns.insert(0, path("oidc/", include("mozilla_django_oidc.urls")))
