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
# A memory cache whatever the environment says (no test writes to a developer's Redis). Tasks run
# in the test's own process, so it is shared by everything a test runs; and query-count tests
# count the pages' own queries, not DRF's throttle bookkeeping in the cache. The database cache
# the deployed app shares between processes (config/settings.py, "Cache") is what the KPI store's
# tests run on (tests/renewals/reports/test_kpi_store.py), a worker in a process of its own included.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Dashboard figures are computed on every request in tests (the cache has its own tests).
KPI_CACHE_SECONDS = 0
# Django's flush between transactional tests is a TRUNCATE, which the ledger and the audit
# tables refuse unless the transaction allows it: this backend's flush does (core.db_guards).
DATABASES["default"]["ENGINE"] = "config.test_database"  # noqa: F405
DATABASES["progress"]["ENGINE"] = "config.test_database"  # noqa: F405
# A fixed key for the credentials of directory sources in tests (production sets its own).
SECRETS_ENCRYPTION_KEYS = ["p4mT0v3x2fQp7Yp1cYp8i8m3tqj0m1p0X2q9r0s1t2U="]
