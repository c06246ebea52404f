"""A real SCIM 2.0 service provider for the connector's tests and benchmark: the
``scim2-server`` command (PyPI, in-memory storage) started on 127.0.0.1 at a free port, with a
bearer token, filled over its own SCIM API."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.integrations.ldap_server import free_port, listening

SERVER = str(Path(sys.executable).with_name("scim2-server"))
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"


def user(name: str, *, email: str = "", employee_no: str = "", mobile: str = "",
         active: bool = True, display: str = "") -> dict[str, Any]:  # fmt: skip
    """A SCIM User as an identity provider would create it."""
    body: dict[str, Any] = {"schemas": [CORE, ENTERPRISE], "userName": name, "active": active}
    body["displayName"] = display or name
    if email:
        body["emails"] = [{"value": email, "primary": True, "type": "work"}]
    if mobile:
        body["phoneNumbers"] = [{"value": mobile, "type": "mobile"}]
    if employee_no:
        body[ENTERPRISE] = {"employeeNumber": employee_no}
    return body


@dataclass
class ScimServer:
    token: str = "connector-test-token"
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v2"

    def start(self) -> ScimServer:
        """Start the server; it is up once *this* process listens on the port (another one
        answering there does not count: a new port is picked and the server started again)."""
        for _attempt in range(5):
            cmd = [SERVER, "--port", str(self.port), "--bearer-token", self.token]
            self.process = subprocess.Popen(
                cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self.process.poll() is None:
                if self.port in listening(self.process.pid):
                    return self
                time.sleep(0.05)
            self.stop()
            self.port = free_port()
        raise RuntimeError("scim2-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
            self.process.wait(10)
            self.process = None

    def client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def add(self, *bodies: dict[str, Any]) -> list[str]:
        """Create the users; their ids."""
        ids = []
        with self.client() as http:
            for body in bodies:
                response = http.post("/Users", json=body)
                assert response.status_code == 201, response.text
                ids.append(response.json()["id"])
        return ids

    def clear(self) -> None:
        """Delete every user (the storage is the process's memory)."""
        with self.client() as http:
            while True:
                page = http.get("/Users", params={"count": 1000}).json().get("Resources") or []
                if not page:
                    return
                for found in page:
                    assert http.delete(f"/Users/{found['id']}").status_code == 204

    def get(self, user_id: str) -> httpx.Response:
        with self.client() as http:
            return http.get(f"/Users/{user_id}")

    def patch_active(self, user_id: str, active: bool) -> None:
        op = {"op": "replace", "path": "active", "value": active}
        body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [op]}
        with self.client() as http:
            response = http.patch(f"/Users/{user_id}", json=body)
            assert response.status_code in (200, 204), response.text

    def delete(self, user_id: str) -> None:
        with self.client() as http:
            assert http.delete(f"/Users/{user_id}").status_code == 204
