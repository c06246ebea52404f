"""A browser, as far as the deployment test's checks need one (tests/test_deploy.py)."""

from __future__ import annotations

import http.client
import json
import re
import ssl
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

from tests.deploy_guide import HOST

# --- a browser, as far as the checks need one ------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str

    def json(self) -> dict[str, object]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data


@dataclass
class Browser:
    """Talks to nginx on 127.0.0.1 with the site's Host header, keeps cookies, never follows
    redirects."""

    https_port: int
    http_port: int
    context: ssl.SSLContext
    cookies: dict[str, str] = field(default_factory=dict)
    set_cookies: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        https: bool = True,
        host: str | None = None,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        conn: http.client.HTTPConnection
        if https:
            conn = http.client.HTTPSConnection(
                "127.0.0.1", self.https_port, timeout=30, context=self.context
            )
            default_host = f"{HOST}:{self.https_port}"
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
            default_host = f"{HOST}:{self.http_port}"
        sent = {"Host": host or default_host, "User-Agent": "deploy-test", **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            response = Response(raw.status, raw.headers, raw.read().decode(errors="replace"))
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            self.set_cookies.append(header)
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs: object) -> Response:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def sign_in(self, username: str, password: str, forwarded_for: str | None = None) -> Response:
        """Like a browser: load the form, post it back with the CSRF cookie and token."""
        page = self.get("/accounts/login/")
        assert page.status == 200, page.body[:2000]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, "no CSRF token on the sign-in page"
        headers = {"Referer": f"{self.origin}/accounts/login/", "Origin": self.origin}
        if forwarded_for:
            headers["X-Forwarded-For"] = forwarded_for
        form = {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password}
        return self.request("POST", "/accounts/login/", form=form, headers=headers)


def _cookie_attributes(set_cookies: list[str], name: str) -> set[str]:
    for header in reversed(set_cookies):
        if header.startswith(f"{name}="):
            return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie was set: {set_cookies}")
