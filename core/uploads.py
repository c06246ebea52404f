"""An upload handler that stops taking a file once it passes the size limit, so an oversized
upload is never written to disk in full (Django would otherwise spool it to a temp file)."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitHandler(FileUploadHandler):
    """Put first in ``request.upload_handlers``; sets ``request.upload_too_large`` when it cut."""

    def __init__(self, request: Any, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        request.upload_too_large = False

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        self.received = 0
        super().new_file(*args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit:
            setattr(self.request, "upload_too_large", True)  # noqa: B010 - read by the view
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
