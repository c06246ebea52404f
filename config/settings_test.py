"""Settings for the test suite: the same as production-shaped settings, made fast and hermetic."""

from __future__ import annotations

import os

os.environ.setdefault("DEBUG", "true")

from config.settings import *  # noqa: E402,F403
from config.settings import Q_CLUSTER  # noqa: E402

# Tasks run in-process, at once, so tests see their effects; scheduler tests call the real
# django-q2 scheduler code on real Schedule rows.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
LANGUAGE_CODE = "zh-hans"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests never collect static files; whitenoise serves them from the finders.
STATIC_ROOT = None
# Two test runs against one server (two checkouts, or two people) each name their own test
# database, e.g. TEST_DATABASE_NAME=test_renewaldesk_2.
if _test_name := os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {**DATABASES["default"].get("TEST", {}), "NAME": _test_name}  # noqa: F405
# Dashboard figures are computed on every request in tests (the cache has its own test).
KPI_CACHE_SECONDS = 0
