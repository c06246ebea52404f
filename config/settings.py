"""Renewal Desk settings. Every knob comes from the environment (see .env.example).

Development defaults are safe; production values that have no safe default (SECRET_KEY) must be
set explicitly once DEBUG is false, or start-up stops with a message saying so.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from config.env import BASE_DIR, DEBUG, env
from config.settings_api import REST_FRAMEWORK, REST_KNOX, SPECTACULAR_SETTINGS  # noqa: F401
from config.settings_database import databases
from config.settings_logging import LOGGING  # noqa: F401

# Every setting config/settings_security.py names is a setting here too.
from config.settings_security import *  # noqa: F403

_DEV_SECRET_KEY = "django-insecure-renewal-desk-development-only"  # noqa: S105 - dev default
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DEBUG=false Renewal Desk refuses to start without one: set "
        "SECRET_KEY to a long random value (for example the output of "
        '`python -c "import secrets; print(secrets.token_urlsafe(50))"`), or set DEBUG=true for '
        "local development."
    )

# Credentials of directory sources and connectors are stored encrypted (core/secrets.py) with
# these Fernet keys: the first encrypts, all decrypt (rotation: put the new key first). With DEBUG
# and none set, a key derived from SECRET_KEY is used; with DEBUG off, storing a secret needs one.
SECRETS_ENCRYPTION_KEYS: list[str] = env.list("SECRETS_ENCRYPTION_KEYS", default=[])

ALLOWED_HOSTS: list[str] = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The canonical address of the site, used in e-mails, chat messages and password-reset links.
SITE_URL: str = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "org.apps.OrgConfig",
    "budgets.apps.BudgetsConfig",
    "renewals.apps.RenewalsConfig",
    "contracts.apps.ContractsConfig",
    "integrations.apps.IntegrationsConfig",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "django_tables2",
    "django_q",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "pgtrigger",
    "pghistory",
]

MIDDLEWARE = [
    # A plain 503 page while the database cannot be reached (config/unavailable.py): first, so
    # its process_exception runs after every other middleware's.
    "config.unavailable.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Records who changed what on which URL into the audit trail's context (core/audit.py).
    "config.middleware.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lock-out raised during authentication into the
    # lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "config.context_processors.navigation",
            ],
            # config/ is not an app; its template tags are named here ({% load money %}).
            "libraries": {
                "money": "core.templatetags.money",
                "status": "core.templatetags.status",
            },
        },
    },
]

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Database: PostgreSQL only (config/settings_database.py) -----------------------------------
DATABASES = databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ------------------------------------------------------------------------------------
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Argon2 for new and changed passwords; older hashes still verify and are upgraded at sign-in.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# A session ends this many seconds after sign-in (12 hours), and with the browser when
# SESSION_EXPIRE_AT_BROWSER_CLOSE is set.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env.bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", default=False)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 24)

# django-axes: after AXES_FAILURE_LIMIT failed sign-ins for one (username, client address)
# pair, that pair is locked for AXES_COOLOFF_MINUTES. The client address is REMOTE_ADDR, or with
# TRUSTED_PROXY_COUNT=N reverse proxies in front the N-th X-Forwarded-For entry from the right
# (org/security.py): what a client writes into that header changes nothing.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "org.views.locked_out"
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "org.security.client_ip"
# Failed attempts are kept in the database (shared by every web process).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# Optional single sign-on with OpenID Connect (mozilla-django-oidc): set OIDC_RP_CLIENT_ID and
# the provider's endpoints. Users are matched by e-mail, or created without any role (an IT
# admin grants roles). Password sign-in stays available for break-glass accounts.
OIDC_RP_CLIENT_ID = env.str("OIDC_RP_CLIENT_ID", default="")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
if OIDC_ENABLED:
    OIDC_RP_CLIENT_SECRET = env.str("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = env.str("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = env.str("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = env.str("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = env.str("OIDC_OP_JWKS_ENDPOINT", default="")
    OIDC_RP_SIGN_ALGO = env.str("OIDC_RP_SIGN_ALGO", default="RS256")
    OIDC_RP_SCOPES = env.str("OIDC_RP_SCOPES", default="openid email profile")
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("org.oidc.OIDCBackend")
    LOGIN_REDIRECT_URL_FAILURE = "/accounts/login/"

# --- Audit trail (core/audit.py) ------------------------------------------------------------
# Event tables refuse UPDATE and DELETE; only writing requests carry the user/URL context (a GET
# that writes is still recorded, without it).
PGHISTORY_APPEND_ONLY = True
PGHISTORY_MIDDLEWARE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
PGHISTORY_INSTALL_CONTEXT_FUNC_ON_MIGRATE = True
# Triggers of the role and department-assignment tables (Django's automatic many-to-many tables
# have no migrations of their own) are installed after every migrate, with the others checked.
PGTRIGGER_INSTALL_ON_MIGRATE = True

# --- REST API (/api/v1/): config/settings_api.py ----------------------------------------------

# --- Internationalisation --------------------------------------------------------------------
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True
BASE_CURRENCY = env.str("BASE_CURRENCY", default="CNY")

# --- Static and uploaded files ---------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# In development whitenoise serves straight from static/ (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
# collectstatic compresses every file twice (gzip, brotli); the API docs' source maps (~30 MB,
# only a browser's developer tools read them) are left as they are, which halves its time.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
# Uploaded contract files live outside the web root and are only served by permission-checked
# views; nothing under MEDIA_ROOT has a public URL.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
# No URL pattern serves this prefix; it only exists because Django's test live server expects one.
MEDIA_URL = "/_private-media-not-served/"
# Contract files and briefing PDFs go through Django's default storage: MEDIA_ROOT on disk, or
# with FILE_STORAGE=s3 a private bucket on any S3-compatible service (django-storages; install
# boto3 too: `pip install -r requirements.lock boto3`). Objects are never public: downloads go
# through the permission-checked views, which stream them from the bucket.
FILE_STORAGE = env.str("FILE_STORAGE", default="filesystem")
if FILE_STORAGE == "s3":
    _default_storage: dict[str, object] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("S3_BUCKET"),
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID"),
            "secret_key": env.str("S3_SECRET_ACCESS_KEY"),
            "location": env.str("S3_PREFIX", default="renewaldesk"),
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif FILE_STORAGE == "filesystem":
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured('FILE_STORAGE must be "filesystem" or "s3".')
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail ----------------------------------------------------------------------------------
if DEBUG and not env.str("EMAIL_URL", default=""):
    # Development (`dev.py start`): each e-mail is a file in var/mail/, so the console keeps the
    # start-up banner readable. EMAIL_URL (e.g. consolemail://) overrides it.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(BASE_DIR / "var" / "mail")
else:
    EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
    vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Renewal Desk <renewals@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Cache -----------------------------------------------------------------------------------
# The cache must be one that every web process and every django-q2 worker shares: the KPI
# dashboard's figures are stored there by a worker's task and served by the web processes
# (renewals/reports/services/kpi_store.py), and its add() is the guard that lets only one
# of several processes queue a refresh. A per-process memory cache would do neither. So: Redis
# when REDIS_URL is set (several machines), else a table in our PostgreSQL, which every process
# already reaches. The table is created by `manage.py createcachetable` (idempotent; `dev.py
# start` runs it after migrate, production runs it with migrate; test databases get it from
# Django's test set-up).
DATABASE_CACHE: dict[str, object] = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "renewaldesk_cache",
    # Each scope the dashboard is seen in keeps about four entries (figures, the rendered section
    # per language, the refresh guard), django-q2 a few (cluster status). Django's default of
    # 300 would start evicting a third of all entries (by key order, not age) at ~75 scopes.
    "OPTIONS": {"MAX_ENTRIES": 5000},
}
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": DATABASE_CACHE}

# --- Background jobs: django-q2 --------------------------------------------------------------
Q_CLUSTER: dict[str, object] = {
    "name": "renewaldesk",
    "workers": env.int("Q_WORKERS", default=2),
    # A task that runs longer than `timeout` is killed; `retry` must be longer than that, or a
    # task still running would be handed to a second worker.
    "timeout": env.int("Q_TIMEOUT", default=300),
    "retry": env.int("Q_RETRY", default=600),
    "max_attempts": 3,
    # Missed schedule runs (the cluster was down) are *not* replayed one by one: each of our
    # scheduled jobs is idempotent and works out by itself what it missed (e.g. the alert sweep
    # sends the most urgent missed threshold), so one catch-up run is right and a burst is wrong.
    "catch_up": False,
    "save_limit": 1000,
    "ack_failures": True,
    "label": "Django Q2",
    "sync": False,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

# --- Security: config/settings_security.py; logging: config/settings_logging.py ---------------

# --- Product defaults (numbers that are defaults, not laws): config/settings_product.py -------
from config.settings_product import *  # noqa: E402,F403
from config.settings_product import CONTRACT_SENDFILE  # noqa: E402

if CONTRACT_SENDFILE and FILE_STORAGE != "filesystem":
    raise ImproperlyConfigured("CONTRACT_SENDFILE needs FILE_STORAGE=filesystem (files on disk).")
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
