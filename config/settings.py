"""Renewal Desk settings. Every knob comes from the environment (see .env.example).

Development defaults are safe; production values that have no safe default (SECRET_KEY) must be
set explicitly once DEBUG is false, or start-up stops with a message saying so.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from config.env import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-renewal-desk-development-only"  # noqa: S105 - dev default
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DEBUG=false Renewal Desk refuses to start without one: set "
        "SECRET_KEY to a long random value (for example the output of "
        '`python -c "import secrets; print(secrets.token_urlsafe(50))"`), or set DEBUG=true for '
        "local development."
    )

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

# --- Database: PostgreSQL only ---------------------------------------------------------------
# With DATABASE_URL, that server. Without it, a private cluster in ./var/ (config/embedded_pg.py),
# started on demand and shared by every process of this checkout.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            "DATABASE_URL must point at PostgreSQL (postgres://…); Renewal Desk runs on PostgreSQL only."
        )
else:
    from config import embedded_pg

    try:
        DATABASES = {"default": embedded_pg.acquire().django_settings()}
    except embedded_pg.EmbeddedPostgresError as exc:
        raise ImproperlyConfigured(str(exc)) from exc
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# A second connection to the same database, outside the transaction of a long job, so that the
# job's progress is visible to the page polling it before the job commits.
DATABASES["progress"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
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

# --- REST API (/api/v1/) ---------------------------------------------------------------------
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
    "ENUM_NAME_OVERRIDES": {},
}

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

# --- Security --------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("SECURE_PROXY_SSL_HEADER", default=False)
    else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer probes /healthz over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp): our own files only, no inline scripts anywhere.
_SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "font-src": [_SELF],
        "connect-src": [_SELF],
        "object-src": ["'none'"],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": ["'none'"],
    },
}

# --- Logging ---------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # 403/404 and other client errors in one line, without a traceback (config/logfilters.py).
    "filters": {"client_errors_one_line": {"()": "config.logfilters.ClientErrorsOneLine"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors_one_line"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint reports every rendering step at INFO.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; lock-outs come at WARNING.
        "axes": {"level": "WARNING"},
        # pgtrigger reports every trigger it (re)installs after migrate.
        "pgtrigger": {"level": "WARNING"},
    },
}

# --- Product defaults (numbers that are defaults, not laws) ----------------------------------
# How long without a heartbeat before /healthz calls the background worker stale.
WORKER_STALE_AFTER_SECONDS = env.int("WORKER_STALE_AFTER_SECONDS", default=300)
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="renewal-demo-2026")
# A seat with no activity for this many days is idle.
IDLE_AFTER_DAYS = env.int("IDLE_AFTER_DAYS", default=60)
# A module whose active users stay under this share of its seats ...
UNDERUSE_PERCENT = env.int("UNDERUSE_PERCENT", default=30)
# ... for this many consecutive complete months is flagged for downgrade or cancellation.
UNDERUSE_MONTHS = env.int("UNDERUSE_MONTHS", default=3)
# The on-time renewal rate the KPI dashboard measures against (percent).
ON_TIME_RENEWAL_TARGET = env.str("ON_TIME_RENEWAL_TARGET", default="99.5")
# The dashboard's figures aggregate the whole inventory: each scope's figures are served from
# the shared cache (see "Cache") with their "as of" stamp; older than this many seconds they are
# still served while one django-q2 task refreshes them. 0 = computed on every view.
KPI_CACHE_SECONDS = env.int("KPI_CACHE_SECONDS", default=60)
# Uploads (CSV/XLSX imports) larger than this are refused before they are stored.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# Files larger than this are checked and imported by a background worker (with a progress bar).
IMPORT_BACKGROUND_BYTES = env.int("IMPORT_BACKGROUND_BYTES", default=512 * 1024)
# Alerts go out this many days before a term end (and before the cancellation deadline of an
# auto-renewing subscription) ...
ALERT_THRESHOLDS: list[int] = env.list("ALERT_THRESHOLDS", cast=int, default=[60, 30, 7])
# ... and from this many days on (and at expiry) the department head is told too.
ALERT_ESCALATE_AT_DAYS = env.int("ALERT_ESCALATE_AT_DAYS", default=7)
# Failed deliveries are retried with exponential back-off (base seconds, with jitter) up to:
ALERT_MAX_ATTEMPTS = env.int("ALERT_MAX_ATTEMPTS", default=5)
ALERT_RETRY_BASE_SECONDS = env.int("ALERT_RETRY_BASE_SECONDS", default=60)
# Delivery workers (renewals/alerts/claims.py): an e-mail or chat send gives up after
# ALERT_SEND_TIMEOUT_SECONDS; a worker claims ALERT_CLAIM_SLICE deliveries at a time under a lease
# of ALERT_LEASE_SECONDS (the send timeout plus a margin), renewed before each send. A worker that
# dies gives its claims up at once (its database session ends); the lease is the backstop for a
# worker cut off from the database. A delivery run waits for retries due within the next ~35 s
# for at most ALERT_WAIT_BUDGET_SECONDS (keep it well under Q_TIMEOUT).
ALERT_SEND_TIMEOUT_SECONDS = env.int("ALERT_SEND_TIMEOUT_SECONDS", default=10)
ALERT_LEASE_SECONDS = env.int("ALERT_LEASE_SECONDS", default=30)
ALERT_CLAIM_SLICE = env.int("ALERT_CLAIM_SLICE", default=10)
ALERT_WAIT_BUDGET_SECONDS = env.int("ALERT_WAIT_BUDGET_SECONDS", default=90)
# A renewal request whose amount does not fit the department's budget either gets a finance
# approval step added ("finance_step", even below the finance tier) or cannot be submitted
# ("refuse").
APPROVAL_OVER_BUDGET = env.str("APPROVAL_OVER_BUDGET", default="finance_step")
if APPROVAL_OVER_BUDGET not in ("finance_step", "refuse"):
    raise ImproperlyConfigured('APPROVAL_OVER_BUDGET must be "finance_step" or "refuse".')
# Which fiscal year's budget an executed renewal's actual (what was paid) is booked in: the year
# of the payment ("payment", the day the execution is recorded, in TIME_ZONE) or the year the new
# term starts ("term_start"). The commitment made at approval, and its release, always stay in
# the budget of the year the new term starts (the request's budget_year).
BUDGET_ACTUALS_YEAR = env.str("BUDGET_ACTUALS_YEAR", default="payment")
if BUDGET_ACTUALS_YEAR not in ("payment", "term_start"):
    raise ImproperlyConfigured('BUDGET_ACTUALS_YEAR must be "payment" or "term_start".')
# Contract files: the largest upload (refused while it arrives, never read whole into memory),
# and how long the PDF text extractor may run before it is stopped.
CONTRACT_MAX_BYTES = env.int("CONTRACT_MAX_BYTES", default=25 * 1024 * 1024)
CONTRACT_EXTRACT_TIMEOUT = env.int("CONTRACT_EXTRACT_TIMEOUT", default=60)
# How long the upload check may spend parsing one PDF (contracts.pdfcheck, its own process with
# 1 GiB of memory at most); a PDF that needs longer is refused as too complex.
CONTRACT_CHECK_TIMEOUT = env.int("CONTRACT_CHECK_TIMEOUT", default=15)
# Serve contract downloads through the web server after the permission check: "" (Django streams
# the file), "x-accel" (nginx: X-Accel-Redirect to CONTRACT_ACCEL_PREFIX + the stored name, an
# internal location aliased to MEDIA_ROOT) or "x-sendfile" (Apache/lighttpd: the absolute path).
CONTRACT_SENDFILE = env.str("CONTRACT_SENDFILE", default="")
CONTRACT_ACCEL_PREFIX = env.str("CONTRACT_ACCEL_PREFIX", default="/_protected/")
if CONTRACT_SENDFILE not in ("", "x-accel", "x-sendfile"):
    raise ImproperlyConfigured('CONTRACT_SENDFILE must be "", "x-accel" or "x-sendfile".')
if CONTRACT_SENDFILE and FILE_STORAGE != "filesystem":
    raise ImproperlyConfigured("CONTRACT_SENDFILE needs FILE_STORAGE=filesystem (files on disk).")
# PDFs (assessment reports, briefings) are set in this font, built once from the vendored
# Noto Sans SC web-font files into one TrueType file (see core/pdf.py).
PDF_FONT_DIR = Path(env.str("PDF_FONT_DIR", default=str(BASE_DIR / "var" / "fonts")))
# Webhook hosts allowed despite resolving to a private address, and over plain http: an explicit
# opt-out of the SSRF protection for a known intranet chat gateway (empty by default).
WEBHOOK_ALLOWED_HOSTS: list[str] = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# Webhook URLs may use port 443 only, and the ports listed here (for any host; an intranet
# gateway on plain http needs 80 here as well as its name in WEBHOOK_ALLOWED_HOSTS).
WEBHOOK_ALLOWED_PORTS: list[int] = env.list("WEBHOOK_ALLOWED_PORTS", cast=int, default=[])
if any(not 0 < port < 65536 for port in WEBHOOK_ALLOWED_PORTS):
    raise ImproperlyConfigured("WEBHOOK_ALLOWED_PORTS must list port numbers (1-65535).")
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"
