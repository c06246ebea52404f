"""Permission-matrix rows of the home page's companions (#15 points 11 and 12): My software and
the global search, open to everyone signed in (each shows only what its user may see)."""

from __future__ import annotations

from tests.matrix_common import LOGIN, SIGNED_IN, Row

ROWS: dict[str, Row] = {
    "renewals:my-software": Row({"anonymous": LOGIN, **SIGNED_IN}),
    "search": Row({"anonymous": LOGIN, **SIGNED_IN}, data=lambda c: {"q": "研发"}),
}
