from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation

from tests.integrations.connectors.scim_server import ScimServer


@pytest.fixture(scope="session")
def _scim_process() -> Iterator[ScimServer]:
    server = ScimServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scim_server(_scim_process: ScimServer) -> ScimServer:
    """The scim2-server process of the session, emptied for each test."""
    _scim_process.clear()
    return _scim_process


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are asserted in English (one test checks the Chinese ones)."""
    with translation.override("en"):
        yield
