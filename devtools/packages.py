"""The Debian packages `start` and `test` need beyond pip, and the npm packages of the browser
tests (bootstrap: standard library only)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from devtools.common import ROOT, run, say

# Debian packages the suite needs beyond pip, and a file that proves each is there.
SYSTEM_PACKAGES = {
    "start": {
        "libpango-1.0-0": "/usr/lib/x86_64-linux-gnu/libpango-1.0.so.0",
        "libpangoft2-1.0-0": "/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0",
        # contracts.textread: scanned contracts and images read by OCR in the worker (ocrmypdf
        # runs Tesseract; pages are rasterised by pypdfium2, so no Ghostscript), in simplified
        # Chinese and English.
        "tesseract-ocr": "/usr/bin/tesseract",
        "tesseract-ocr-chi-sim": "/usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata",
        "tesseract-ocr-eng": "/usr/share/tesseract-ocr/5/tessdata/eng.traineddata",
    },
    "test": {
        "libpango-1.0-0": "/usr/lib/x86_64-linux-gnu/libpango-1.0.so.0",
        "libpangoft2-1.0-0": "/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0",
        # tests/contracts/test_text_read.py: real OCR of scans (Tesseract, simplified Chinese
        # and English), as the worker does it.
        "tesseract-ocr": "/usr/bin/tesseract",
        "tesseract-ocr-chi-sim": "/usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata",
        "tesseract-ocr-eng": "/usr/share/tesseract-ocr/5/tessdata/eng.traineddata",
        "chromium": "/usr/bin/chromium",
        "gettext": "/usr/bin/xgettext",
        # tests/test_deploy.py: the production guide behind nginx, with its own Redis and a
        # self-signed certificate.
        "nginx": "/usr/sbin/nginx",
        "redis-server": "/usr/bin/redis-server",
        "openssl": "/usr/bin/openssl",
        # tests/integrations/directory: a private OpenLDAP server (tests/integrations/ldap_server.py)
        # for the LDAP / AD reader, filled with slapadd, changed with ldapmodify.
        "slapd": "/usr/sbin/slapd",
        "ldap-utils": "/usr/bin/ldapsearch",
        # axe-core for the accessibility browser tests comes from npm (package-lock.json).
        "npm": "/usr/bin/npm",
    },
}


def ensure_system_packages(kind: str) -> None:
    missing = [pkg for pkg, proof in SYSTEM_PACKAGES[kind].items() if not Path(proof).exists()]
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing system packages: {' '.join(missing)}")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)
        return
    sys.exit(
        f"These system packages are missing: {' '.join(missing)}. Install them "
        f"(e.g. `sudo apt-get install {' '.join(missing)}`) and run again."
    )


NPM_STAMP = ROOT / "node_modules" / ".renewaldesk-lock-sha256"


def ensure_node_modules() -> None:
    """`npm ci` when package-lock.json changed (or node_modules/ is missing): the browser tests
    inject node_modules/axe-core/axe.min.js. The app itself never needs npm."""
    digest = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    if NPM_STAMP.exists() and NPM_STAMP.read_text() == digest:
        return
    say("installing the npm packages of package-lock.json (npm ci)")
    run(["npm", "ci", "--no-audit", "--no-fund"])
    NPM_STAMP.write_text(digest)
