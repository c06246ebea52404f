"""One private OpenLDAP server for the session (tests/integrations/ldap_server.py), with two
generated organisations: ou=Staff (OpenLDAP style, 60 people in 12 departments, every tenth
person a leaver by ``employeeType: left``) and ou=Corp (AD style, 30 people in 5 departments,
every tenth disabled by userAccountControl). Its size limit (25) is below both: only paged
searches read them whole. Tests that change entries make their own subtree (``subtree``)."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.integrations.ldap_server import SLAPD, SUFFIX, LdapServer, tree_ldif

STAFF = f"ou=Staff,{SUFFIX}"
CORP = f"ou=Corp,{SUFFIX}"
SIZE_LIMIT = 25
_subtrees = itertools.count(1)


@dataclass
class FakeSource:
    """What the reader uses of a DirectorySource."""

    config: dict[str, Any]
    secrets: dict[str, str]
    cursor: str = ""
    pk: int = 0


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    if not Path(SLAPD).exists():
        pytest.fail("slapd is missing: apt-get install slapd ldap-utils (devtools/packages.py)")
    server = LdapServer(tmp_path_factory.mktemp("slapd"), size_limit=SIZE_LIMIT)
    out = io.StringIO()
    tree_ldif(out, people=60, departments=12, base=STAFF, disabled_every=10)
    tree_ldif(out, people=30, departments=5, base=CORP, tree=1, flavour="ad", disabled_every=10)
    server.load(out.getvalue())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def ldap_source(ldap_server: LdapServer) -> Callable[..., FakeSource]:
    """A source reading ou=Staff as the reader account; keyword arguments change its config."""

    def make(*, password: str | None = None, cursor: str = "", **config: Any) -> FakeSource:
        base = {
            "url": ldap_server.url,
            "bind_dn": ldap_server.reader_dn,
            "base_dn": STAFF,
            "disabled_filter": "(employeeType=left)",
        }
        secret = ldap_server.reader_password if password is None else password
        return FakeSource({**base, **config}, {"bind_password": secret}, cursor)

    return make


@pytest.fixture
def subtree(ldap_server: LdapServer) -> Callable[..., str]:
    """Add a generated organisation of our own (the server stamps and ids it); its base DN."""

    def make(*, people: int, departments: int, flavour: str = "openldap", every: int = 0) -> str:
        base = f"ou=T{next(_subtrees)},{SUFFIX}"
        out = io.StringIO()
        tree_ldif(
            out,
            people=people,
            departments=departments,
            base=base,
            flavour=flavour,
            disabled_every=every,
            operational=False,
        )
        ldap_server.add(out.getvalue())
        return base

    return make


@pytest.fixture(autouse=True)
def _messages_in_english() -> Iterator[None]:
    """The readers' and callbacks' messages are checked in English (their zh-hans text is the
    catalogue's business, checked by tests/test_i18n.py)."""
    from django.utils import translation

    with translation.override("en"):
        yield
