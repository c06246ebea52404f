"""Is a PDF plain (pages, text, images, links) or active? Judged by parsing it with pypdf, run as
its own process: ``python -m contracts.pdfcheck FILE [SECONDS]`` prints one JSON verdict.

No Django here: the upload service (contracts.files) runs this with a memory limit and a timeout,
so a file built to make the parser loop, recurse or eat memory costs one short-lived process.

Every object of the file is judged, found three ways: from the trailer by following references
(so the checker knows which dictionaries are actions: /OpenAction, /A, /PA, /Next, /AA), every
entry of the cross-reference tables (all incremental updates, objects inside compressed object
streams), and a front-to-back scan of the bytes for ``N G obj`` (objects no table lists, as a
viewer repairing a damaged file finds them). Names arrive decoded (``/#4A#61vaScript`` is
``/JavaScript``); stream data other than object streams is never interpreted.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    TextStringObject,
    read_object,
)

# Kinds of active content; contracts.files turns each into a translated message.
SCRIPT, LAUNCH, FILE, FORM, MEDIA, AUTO, LINK, ACTION = (
    "script", "launch", "file", "form", "media", "auto", "link", "action",
)  # fmt: skip
# Action types (ISO 32000-2 12.6.4) by what they do; anything else that is an action is refused
# unless it is plain navigation (ALLOWED_ACTIONS).
ACTION_KINDS = {
    "/JavaScript": SCRIPT, "/ECMAScript": SCRIPT, "/Launch": LAUNCH, "/ImportData": FORM,
    "/SubmitForm": FORM, "/ResetForm": FORM, "/GoToR": FILE, "/GoToE": FILE, "/GoToDp": FILE,
    "/Rendition": MEDIA, "/RichMediaExecute": MEDIA, "/Movie": MEDIA, "/Sound": MEDIA,
    "/GoTo3DView": MEDIA,
}  # fmt: skip
ALLOWED_ACTIONS = {"/GoTo", "/URI", "/Named"}
SAFE_SCHEMES = {"http", "https", "mailto"}
# Dictionary keys that only ever hold active content (names trees, file specs, forms, media).
KEY_KINDS = {
    "/JavaScript": SCRIPT, "/EmbeddedFiles": FILE, "/EF": FILE, "/Collection": FILE,
    "/XFA": FORM, "/Renditions": MEDIA, "/AlternatePresentations": MEDIA,
    "/RichMediaContent": MEDIA, "/RichMediaSettings": MEDIA,
}  # fmt: skip
SUBTYPE_KINDS = {
    "/FileAttachment": FILE, "/RichMedia": MEDIA, "/Screen": MEDIA, "/Movie": MEDIA,
    "/Sound": MEDIA, "/3D": MEDIA,
}  # fmt: skip
OBJ_HEADER = re.compile(rb"(?<![0-9])([0-9]{1,10})[\x00\t\n\f\r ]+([0-9]{1,5})[\x00\t\n\f\r ]+obj")
CONTROL = re.compile(r"[\x00-\x20\x7f]")
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


@dataclass
class Limits:
    """The most work one file may cost; past any of these it is refused as too complex."""

    seconds: float = 15.0  # of CPU time
    objects: int = 200_000  # indirect objects (tables and the scan)
    nodes: int = 5_000_000  # values visited in all
    depth: int = 64  # dictionaries and arrays inside each other
    pages: int = 10_000


class Refused(Exception):
    def __init__(self, reason: str, kind: str = "", detail: str = "") -> None:
        super().__init__(reason, kind, detail)
        self.reason, self.kind, self.detail = reason, kind, detail


@dataclass
class Budget:
    limits: Limits
    deadline: float = 0.0
    nodes: int = 0
    seen: set[tuple[int, int, str]] = field(default_factory=set)

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > self.limits.nodes:
            raise Refused("too_complex", detail="too many values")
        if self.nodes % 2048 == 0 and time.process_time() > self.deadline:
            raise Refused("too_complex", detail="out of time")


def _resolve(value: Any) -> Any:
    """The object a reference points to, or None where it cannot be read (a viewer's null)."""
    if not isinstance(value, IndirectObject):
        return value
    try:
        return value.get_object()
    except (LimitReachedError, RecursionError):
        raise
    except Exception:
        return None


def _name(d: Any, key: str) -> str | None:
    value = _resolve(dict.get(d, key))
    return str(value) if isinstance(value, NameObject) else None


def _judge_action(d: Any, action: str, ctx: str) -> None:
    if action in ACTION_KINDS:
        raise Refused("active", ACTION_KINDS[action], action)
    if ctx == "open" and action != "/GoTo":
        raise Refused("active", AUTO, f"open action {action}")
    if action not in ALLOWED_ACTIONS:
        raise Refused("active", ACTION, action)
    if action == "/URI":
        uri = _resolve(dict.get(d, "/URI"))
        text = uri.decode("latin-1") if isinstance(uri, bytes) else str(uri or "")
        scheme = SCHEME.match(CONTROL.sub("", text))
        if scheme and scheme.group(1).lower() not in SAFE_SCHEMES:
            raise Refused("active", LINK, scheme.group(1).lower())


def _judge_dict(d: Any, ctx: str) -> None:
    """Refuse a dictionary that is, or holds, active content; ``ctx`` says whether it was reached
    as an action ("action", "open" for the document's open action) or not ("")."""
    for key, kind in KEY_KINDS.items():
        if key in d:
            raise Refused("active", kind, key)
    kind_type, action = _name(d, "/Type"), _name(d, "/S")
    if kind_type == "/EmbeddedFile":
        raise Refused("active", FILE, kind_type)
    subtype = _name(d, "/Subtype")
    if subtype in SUBTYPE_KINDS:
        raise Refused("active", SUBTYPE_KINDS[subtype], subtype)
    if "/JS" in d and (
        action is not None
        or isinstance(
            _resolve(dict.get(d, "/JS")), (TextStringObject, ByteStringObject, StreamObject)
        )
    ):
        raise Refused("active", SCRIPT, "/JS")
    triggers = _resolve(dict.get(d, "/AA"))
    if isinstance(triggers, dict) and triggers:
        raise Refused("active", AUTO, "/AA")
    if action in ACTION_KINDS:
        raise Refused("active", ACTION_KINDS[action], action)
    if action is not None and (ctx or kind_type == "/Action"):
        _judge_action(d, action, ctx or "action")


def _child_ctx(key: str, ctx: str) -> str:
    if key == "/OpenAction":
        return "open"
    if key == "/Next":
        return "open" if ctx == "open" else "action"
    return "action" if key in ("/A", "/PA") else ""


def walk(root: Any, budget: Budget, *, follow: bool, ctx: str = "") -> None:
    """Judge ``root`` and everything inside it; with ``follow``, also what its references point
    to, each once (without, only references to actions). No stack of Python calls: chains of references (outline items, threads) may
    be long; ``depth`` limits how deep direct values nest inside one object."""
    stack: list[tuple[Any, str, int]] = [(root, ctx, 0)]
    while stack:
        budget.tick()
        value, here, depth = stack.pop()
        if isinstance(value, IndirectObject):
            if not follow and not here:
                continue  # (an action is judged as one wherever it is reached from)
            key = (value.idnum, value.generation, here)
            if key in budget.seen:
                continue
            budget.seen.add(key)
            value, depth = _resolve(value), 0
        if depth > budget.limits.depth:
            raise Refused("too_complex", detail="nested too deeply")
        if isinstance(value, DictionaryObject):
            _judge_dict(value, here)
            stack.extend((v, _child_ctx(str(k), here), depth + 1) for k, v in value.items())
        elif isinstance(value, ArrayObject):
            stack.extend((v, here, depth + 1) for v in value)


def _table_objects(reader: Any, limits: Limits) -> Iterator[Any]:
    """Every object the cross-reference tables list (all revisions, object streams too)."""

    refs = [(num, gen) for gen, entries in reader.xref.items() for num in entries]
    refs += [(num, 0) for num in reader.xref_objStm]
    if len(refs) > limits.objects:
        raise Refused("too_complex", detail="too many objects")
    for num, gen in refs:
        yield _resolve(IndirectObject(num, gen, reader))


def _skip_space(data: bytes, position: int) -> int:
    while position < len(data) and data[position] in b"\x00\t\n\f\r ":
        position += 1
    return position


def _scanned_objects(data: bytes, reader: Any, budget: Budget) -> Iterator[Any]:
    """Every ``N G obj`` in the bytes, front to back (skipping what lies inside an object already
    read, such as a stream's data), and the objects inside each object stream found. Objects the
    tables list were judged already: they are only read again when they are streams (to step
    over their data) or object streams (for members the tables do not list)."""
    listed = {
        (offset, num, gen)
        for gen, entries in reader.xref.items()
        for num, offset in entries.items()
    }
    stream, end, count = io.BytesIO(data), 0, 0
    for match in OBJ_HEADER.finditer(data):
        if match.start() < end:
            continue
        count += 1
        if count > budget.limits.objects:
            raise Refused("too_complex", detail="too many objects")
        budget.tick()
        num, gen = int(match.group(1)), int(match.group(2))
        judged = None
        if (match.start(), num, gen) in listed:
            judged = reader.cache_get_indirect_object(gen, num)
        if judged is not None and not isinstance(judged, StreamObject):
            continue
        stream.seek(_skip_space(data, match.end()))
        try:
            obj = read_object(stream, reader)
        except (RecursionError, MemoryError):
            raise
        except Exception:  # not an object after all, or a broken one no viewer reads either
            continue
        end = stream.tell()
        if judged is None:
            yield obj
        if isinstance(obj, StreamObject) and _name(obj, "/Type") == "/ObjStm":
            members = {m for m, (stm, _i) in reader.xref_objStm.items() if stm == num}
            yield from _stream_members(obj, reader, budget, skip=members if judged else set())


def _stream_members(obj: Any, reader: Any, budget: Budget, *, skip: set[int]) -> Iterator[Any]:
    """The objects of one compressed object stream, at the offsets its header gives (but those
    in ``skip``, judged already)."""
    try:
        data, first = obj.get_data(), int(_resolve(dict.get(obj, "/First")))
    except (RecursionError, MemoryError):
        raise
    except Exception:
        return
    numbers = data[:first].split()
    if len(numbers) // 2 > budget.limits.objects:
        raise Refused("too_complex", detail="too many objects")
    member = io.BytesIO(data)
    for num, offset in zip(numbers[0::2], numbers[1::2], strict=False):
        budget.tick()
        try:
            if int(num) in skip:
                continue
            member.seek(_skip_space(data, first + int(offset)))
            yield read_object(member, reader)
        except (RecursionError, MemoryError):
            raise
        except Exception:
            continue


def judge(data: bytes, limits: Limits | None = None) -> dict[str, Any]:
    """The verdict on one file: ``{"ok": True, "pages": n}`` or ``{"refused": reason, "kind":
    ..., "detail": ...}`` with reason one of unparseable, no_pages, encrypted, active,
    too_complex."""
    limits = limits or Limits()
    budget = Budget(limits, deadline=time.process_time() + limits.seconds)
    try:
        pages = _inspect(data, budget)
    except Refused as refused:
        return {"refused": refused.reason, "kind": refused.kind, "detail": refused.detail}
    except RecursionError:
        return {"refused": "too_complex", "kind": "", "detail": "nested too deeply"}
    except MemoryError:
        return {"refused": "too_complex", "kind": "", "detail": "too large"}
    return {"ok": True, "pages": pages}


def _inspect(data: bytes, budget: Budget) -> int:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except LimitReachedError as exc:
        raise Refused("too_complex", detail=str(exc)[:200]) from exc
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:
        raise Refused("unparseable", detail=str(exc)[:200]) from exc
    if encrypted:
        raise Refused("encrypted")
    try:
        walk(reader.trailer, budget, follow=True)
        for obj in _table_objects(reader, budget.limits):
            walk(obj, budget, follow=False)
        for obj in _scanned_objects(data, reader, budget):
            walk(obj, budget, follow=False)
        pages = len(reader.pages)
    except Refused:
        raise
    except LimitReachedError as exc:
        raise Refused("too_complex", detail=str(exc)[:200]) from exc
    except (RecursionError, MemoryError):
        raise
    except Exception as exc:
        raise Refused("unparseable", detail=str(exc)[:200]) from exc
    if pages < 1:
        raise Refused("no_pages")
    if pages > budget.limits.pages:
        raise Refused("too_complex", detail="too many pages")
    return pages


def main(argv: list[str]) -> None:
    import resource

    seconds = float(argv[2]) if len(argv) > 2 else Limits.seconds
    # At most 1 GiB of memory and a little more CPU than the time budget, for a hostile file.
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    cpu = int(seconds) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    logging.disable(logging.CRITICAL)  # pypdf's warnings about damaged files are not ours
    sys.setrecursionlimit(5000)
    with open(argv[1], "rb") as handle:
        data = handle.read()
    sys.stdout.write(json.dumps(judge(data, Limits(seconds=seconds))))


if __name__ == "__main__":
    main(sys.argv)
