"""Logging to the console; config/settings.py imports ``LOGGING``."""

from __future__ import annotations

from config.env import env

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
