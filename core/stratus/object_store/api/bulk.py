"""Bulk operations, as Swift's ``bulk`` middleware offers them.

- ``POST`` or ``DELETE`` on the account with ``?bulk-delete``: the body lists URL-encoded
  ``/container/object`` (or ``/container``: deleted when empty) paths, one per line, at
  most :data:`MAX_DELETES`.
- ``PUT`` on the account or a container with ``?extract-archive=tar|tar.gz|tar.bz2``: each
  file of the archive becomes an object (its first path part the container at the account
  level, created when missing), streamed from the archive, never held whole.

Each item is authorized as its own request would be. The answer is 200 with a summary in
text, JSON or XML (``Accept``), its ``Response Status`` the worst item's.
"""

from __future__ import annotations

import json
import tarfile
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any
from xml.sax.saxutils import escape

import falcon

from stratus.exceptions import Invalid, NotFound, StratusError
from stratus.object_store.api import listings

MAX_DELETES = 10000
MAX_DELETE_BODY = 2 * 1024 * 1024
MAX_CONTAINERS_PER_EXTRACTION = 10000
_FORMATS = {"tar": "r|", "tar.gz": "r|gz", "tar.bz2": "r|bz2"}
CHUNK = 1 << 16


def answer(req: falcon.Request, resp: falcon.Response, outcome: dict[str, Any]) -> None:
    resp.status = falcon.HTTP_200
    try:
        chosen = listings.media_type(req)
    except StratusError:
        chosen = "text/plain"
    if chosen == "application/json":
        resp.content_type = "application/json; charset=utf-8"
        resp.data = json.dumps(outcome).encode()
    elif chosen == "application/xml":
        resp.content_type = "application/xml; charset=utf-8"
        fields = "".join(f"<{k.lower().replace(' ', '_')}>{escape(str(v))}</{k.lower().replace(' ', '_')}>"
                         for k, v in outcome.items() if k != "Errors")
        errors = "".join(f"<object><name>{escape(n)}</name><status>{escape(s)}</status></object>"
                         for n, s in outcome["Errors"])
        xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<delete>{fields}<errors>{errors}</errors></delete>'
        resp.data = xml.encode()
    else:
        resp.content_type = "text/plain; charset=utf-8"
        resp.data = "".join(f"{key}: {value}\n" for key, value in outcome.items()).encode()


def _status(errors: list[list[str]], ok: str) -> str:
    if not errors:
        return ok
    worst = max(int(status.split()[0]) for _, status in errors)
    return "400 Bad Request" if worst < 500 else "502 Bad Gateway"


def delete_outcome(deleted: int, missing: int, errors: list[list[str]]) -> dict[str, Any]:
    return {"Number Deleted": deleted, "Number Not Found": missing, "Response Status": _status(errors, "200 OK"),
            "Response Body": "", "Errors": errors}


def paths(body: bytes) -> list[tuple[str, str | None]]:
    """``(container, object or None)`` of a bulk-delete body.

    :raises Invalid: too many, or a line that names nothing.
    """
    found: list[tuple[str, str | None]] = []
    for line in body.decode("utf-8", "strict").splitlines():
        line = line.strip()
        if not line:
            continue
        path = urllib.parse.unquote(line, errors="strict").lstrip("/")
        container, _, name = path.partition("/")
        if not container:
            raise Invalid(f"Invalid bulk delete path {line!r}")
        found.append((container, name or None))
        if len(found) > MAX_DELETES:
            raise Invalid(f"Maximum Bulk Deletes: {MAX_DELETES} per request")
    return found


def delete(req: falcon.Request, resp: falcon.Response, body: bytes,
           delete_object: Callable[[str, str], None], delete_container: Callable[[str], None]) -> None:
    try:
        wanted = paths(body)
    except UnicodeDecodeError:
        raise Invalid("Invalid UTF8 in the bulk delete body") from None
    deleted = missing = 0
    errors: list[list[str]] = []
    for container, name in wanted:
        shown = f"/{container}" + (f"/{name}" if name is not None else "")
        try:
            if name is None:
                delete_container(container)
            else:
                delete_object(container, name)
            deleted += 1
        except NotFound:
            missing += 1
        except StratusError as exc:
            errors.append([urllib.parse.quote(shown), f"{exc.http_status} {exc.title}"])
    answer(req, resp, delete_outcome(deleted, missing, errors))


class _Reader:
    """The request body as a file for ``tarfile``'s stream mode."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.buffer = chunks, b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.buffer += chunk
        if size < 0:
            data, self.buffer = self.buffer, b""
        else:
            data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _member_bytes(archive: tarfile.TarFile, member: tarfile.TarInfo) -> Iterator[bytes]:
    handle = archive.extractfile(member)
    if handle is None:
        return
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            return
        yield chunk


def extract(req: falcon.Request, resp: falcon.Response, kind: str, chunks: Iterator[bytes], container: str | None,
            ensure_container: Callable[[str], None], put_object: Callable[[str, str, Iterator[bytes]], None],
            check_name: Callable[[str, str], None]) -> None:
    mode = _FORMATS.get(kind)
    if mode is None:
        raise Invalid(f"Unsupported archive format {kind!r}: tar, tar.gz or tar.bz2")
    created = 0
    errors: list[list[str]] = []
    made: set[str] = set()
    try:
        with tarfile.open(fileobj=_Reader(chunks), mode=mode) as archive:  # type: ignore[call-overload]
            for member in archive:
                if not member.isfile():
                    continue
                path = member.name.lstrip("./").lstrip("/")
                target, name = (container, path) if container is not None else path.partition("/")[::2]
                if not target or not name:
                    errors.append([urllib.parse.quote(member.name), "400 Bad Request"])
                    continue
                try:
                    check_name("container", target)
                    check_name("object", name)
                    if container is None and target not in made:
                        if len(made) >= MAX_CONTAINERS_PER_EXTRACTION:
                            raise Invalid("More than the containers one extraction may create")
                        ensure_container(target)
                        made.add(target)
                    put_object(target, name, _member_bytes(archive, member))
                    created += 1
                except StratusError as exc:
                    errors.append([urllib.parse.quote(f"/{target}/{name}"), f"{exc.http_status} {exc.title}"])
    except tarfile.TarError as exc:
        raise Invalid(f"Invalid Tar File: {exc}") from None
    answer(req, resp, {"Number Files Created": created, "Response Status": _status(errors, "201 Created"),
                       "Response Body": "", "Errors": errors})
