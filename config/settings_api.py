"""The REST API's settings (DRF, knox tokens, the OpenAPI schema); config/settings.py imports
them."""

from __future__ import annotations

from datetime import timedelta

from config.env import env

# Per-user tokens (knox: stored hashed, with an expiry, revocable by their owner or an IT admin
# in the admin) for other systems; the browser's session for the interactive docs.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api_auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "DEFAULT_FILTER_BACKENDS": [
        "core.api_filters.ScopedFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_RATE", default="6000/hour")},
    "COERCE_DECIMAL_TO_STRING": True,
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_DAYS", default=365)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Renewal Desk API",
    "DESCRIPTION": (
        "Subscriptions, seats, usage, renewal requests, budgets, contracts, alerts and people, "
        "scoped to the departments the token's user may see. Authenticate with "
        "`Authorization: Token <token>` (create one under your account's API tokens)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SubscriptionCategoryEnum": "renewals.inventory.models.subscriptions.Category",
        # A contract's billing cycle and a subscription's (or quote's) are different choice sets
        # of one name.
        "ContractBillingCycleEnum": "contracts.models.BillingCycle",
        "BillingCycleEnum": "renewals.inventory.models.subscriptions.BillingCycle",
    },
}
