"""Text out of a PDF, run as its own process: ``python -m contracts.extract FILE``.

The worker runs this with a timeout (CONTRACT_EXTRACT_TIMEOUT): a PDF built to make the parser
loop or eat memory kills only this process, never the worker or the contract.
"""

from __future__ import annotations

import resource
import sys


def main(path: str) -> None:
    # At most 1 GiB of memory for a hostile file.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    from pypdf import PdfReader

    reader = PdfReader(path)
    out = sys.stdout
    written = 0
    for page in reader.pages:
        text = page.extract_text() or ""
        out.write(text)
        out.write("\n")
        written += len(text)
        if written > 2_000_000:
            break


if __name__ == "__main__":
    main(sys.argv[1])
