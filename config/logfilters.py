"""Logging filters of the console handler (settings.LOGGING)."""

from __future__ import annotations

import logging


class ClientErrorsOneLine(logging.Filter):
    """A refused or missing page (4xx) is the client's error, not the app's: Django logs a 403
    with the PermissionDenied's traceback; keep such records to their one line. Server errors
    (5xx) and everything else keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if record.name.startswith("django.") and isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
