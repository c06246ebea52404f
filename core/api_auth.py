"""Token authentication of the REST API (its own module: DRF imports it while it starts up)."""

from __future__ import annotations

import re
from typing import Any

import knox.auth
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

# What a knox token looks like (an optional prefix, then hex); anything else is refused before it
# reaches the database (a NUL byte or broken UTF-8 in the header made knox's lookup fail with
# a 500).
_TOKEN = re.compile(rb"[A-Za-z0-9_\-]{8,256}")


class TokenAuthentication(knox.auth.TokenAuthentication):
    """knox's token check, refusing malformed tokens with a plain 401."""

    def authenticate_credentials(self, token: bytes) -> Any:
        if not _TOKEN.fullmatch(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)
