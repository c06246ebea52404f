"""Product defaults: numbers that are defaults, not laws, each from the environment;
config/settings.py imports every setting named here."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from config.env import BASE_DIR, env

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
# the shared cache (config/settings.py, "Cache") with their "as of" stamp; older than this many
# seconds they are still served while one django-q2 task refreshes them. 0 = computed on every
# view.
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
# and how long reading a PDF's text layer may run before it is stopped.
CONTRACT_MAX_BYTES = env.int("CONTRACT_MAX_BYTES", default=25 * 1024 * 1024)
CONTRACT_EXTRACT_TIMEOUT = env.int("CONTRACT_EXTRACT_TIMEOUT", default=60)
# Scanned pages and images are read by OCR (contracts.textread, Tesseract in the worker): the
# seconds one document may take in all (text layer included; the worker's task timeout, Q_TIMEOUT,
# must be longer), the most pages of one document read by OCR (the first ones; a text layer is
# read whole), the largest image in pixels (a bigger one is refused unread, as a decompression
# bomb) and Tesseract's languages (Debian's tesseract-ocr-chi-sim and tesseract-ocr-eng).
# (By default 180 s, or less where the worker's Q_TIMEOUT is shorter, as in some tests; a value
# set by hand must leave the worker 30 s.)
_Q_TIMEOUT = env.int("Q_TIMEOUT", default=300)  # Q_CLUSTER's, config/settings.py
CONTRACT_OCR_TIMEOUT = env.int("CONTRACT_OCR_TIMEOUT", default=max(5, min(180, _Q_TIMEOUT - 30)))
CONTRACT_OCR_MAX_PAGES = env.int("CONTRACT_OCR_MAX_PAGES", default=30)
CONTRACT_OCR_MAX_PIXELS = env.int("CONTRACT_OCR_MAX_PIXELS", default=60_000_000)
CONTRACT_OCR_LANGUAGES = env.str("CONTRACT_OCR_LANGUAGES", default="chi_sim+eng")
if env.str("CONTRACT_OCR_TIMEOUT", default="") and CONTRACT_OCR_TIMEOUT + 30 > _Q_TIMEOUT:
    raise ImproperlyConfigured("CONTRACT_OCR_TIMEOUT must be at least 30 s shorter than Q_TIMEOUT.")
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
# (That it needs FILE_STORAGE=filesystem is checked in config/settings.py, beside FILE_STORAGE.)
# Contract traps (#22): an auto-renewing contract that needs more notice than this many days
# is flagged, and so is a renewal price cap above this percentage.
CONTRACT_TRAP_NOTICE_DAYS = env.int("CONTRACT_TRAP_NOTICE_DAYS", default=30)
CONTRACT_PRICE_CAP_LIMIT = env.int("CONTRACT_PRICE_CAP_LIMIT", default=5)
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

# Directory sync (integrations/directory): a run that would mark more than this share (percent)
# of a source's active people as leavers, or leave a department with nobody, is held for an IT
# admin's confirmation instead of being applied.
DIRECTORY_MAX_LEAVERS_PERCENT = env.float("DIRECTORY_MAX_LEAVERS_PERCENT", default=5.0)
# Usage connectors' playbooks (#20): one automatic run (idle accounts, leavers) revokes at most
# this percent of a connector's active accounts; more wait for IT to confirm them.
CONNECTOR_MAX_REVOKE_PERCENT = env.int("CONNECTOR_MAX_REVOKE_PERCENT", default=10)
# Chat apps (#21): a worker's lease on the calls it took (about the HTTP time-outs of a few
# calls), and how often a call is tried before it is a dead letter (back-off 30 s doubling to an
# hour: 12 attempts span about six hours, so a platform down for an hour misses nothing).
CHAT_LEASE_SECONDS = env.int("CHAT_LEASE_SECONDS", default=120)
CHAT_MAX_ATTEMPTS = env.int("CHAT_MAX_ATTEMPTS", default=12)
