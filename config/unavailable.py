"""While PostgreSQL cannot be reached, every page answers a plain 503 with ``Retry-After`` instead
of a 500 with a traceback per request.

The page is static HTML read once at start-up (config/unavailable.html, Chinese and English on
one page: the user's language may live in the database), so rendering it touches neither the
database nor a template, a context processor or the session. Each such request is logged as ONE
line (``config.unavailable``), without a traceback.

Two hooks, because Django turns an exception into a response at every middleware layer
(``convert_exception_to_response`` wraps each one), so no middleware can catch what another
middleware raised:

* ``DatabaseUnavailableMiddleware.process_exception`` for errors of views and of the templates
  they render (DRF re-raises them too), before Django's 500 machinery runs (no
  ``got_request_exception`` signal, no traceback);
* ``server_error`` (``handler500`` in config/urls.py) for everything else that reaches Django's
  500 path: the session loaded in a middleware (``request.user`` in the audit middleware on a
  POST), the session saved on the way out, the cache. Its response is marked as logged, so Django
  does not log the traceback after it.

With DEBUG=true Django shows its debug page instead of ``handler500``; views still get the 503.
``/healthz`` keeps its own 503 (config/health.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
PAGE = (Path(__file__).resolve().parent / "unavailable.html").read_bytes()
# SQLSTATEs that mean "no usable connection": connection exceptions (class 08), the server shutting
# down or starting up (57P01-57P03), too many connections (53300).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True if ``exc`` (or what it was raised from) says the database cannot be reached, as
    opposed to a query that failed on a working connection."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, InterfaceError | psycopg.InterfaceError):
            return True
        if isinstance(exc, OperationalError | psycopg.OperationalError):
            cause = exc.__cause__ if isinstance(exc, OperationalError) else exc
            state = getattr(cause, "sqlstate", None)
            return state is None or state.startswith(_UNAVAILABLE_STATES)
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The 503 answer, with its one log line."""
    reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    logger.error(
        "Database unavailable: %s %s answered 503 (%s)", request.method, request.path, reason
    )
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": "Service unavailable: the database cannot be reached."})
        response.status_code = 503
    else:
        response = HttpResponse(PAGE, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # type: ignore[attr-defined]  # Django's log_response: once
    return response


class DatabaseUnavailableMiddleware:
    """First in MIDDLEWARE, so its ``process_exception`` runs after every other one's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return unavailable_response(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the 503 when the uncaught exception was the database being away."""
    exc = sys.exc_info()[1]
    if exc is not None and is_database_unavailable(exc):
        return unavailable_response(request, exc)
    return defaults.server_error(request)
