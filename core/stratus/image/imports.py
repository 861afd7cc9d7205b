"""The interoperable import flow's background half: fetch (web-download), then copy the
staged data into each target store, then activate — or roll back to ``queued``.

Runs on :attr:`ImageService.executor` threads of the API process that accepted the import.
Progress shows as Glance's reserved properties: ``os_glance_importing_to_stores`` (stores
still to do; "" once finished) and ``os_glance_failed_import`` (stores that failed). An import interrupted by
the process stopping leaves the image ``importing`` (as in Glance); deleting it cleans up.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from stratus.exceptions import BackendUnavailable, Forbidden, Invalid, StratusError
from stratus.image import models, states, tasks, uploads
from stratus.image.service import STAGING, ImageService
from stratus.interfaces.image_store import Location, StoredImage, WritableStore

LOG = logging.getLogger(__name__)
IMPORTING = "os_glance_importing_to_stores"
FAILED = "os_glance_failed_import"


@dataclass(frozen=True)
class ImportJob:
    image_id: str
    owner: str | None
    method: str
    stores: list[str]
    all_must_succeed: bool
    uri: str | None = None


def check_uri(conf: Any, uri: str) -> None:
    """:raises Invalid: not a URL. :raises Forbidden: the operator's import filters refuse it."""
    parsed = urllib.parse.urlsplit(uri)
    options = conf.image
    if not parsed.scheme or not parsed.hostname:
        raise Invalid(f"method.uri {uri!r} is not a URL")
    try:
        port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
    except ValueError:
        raise Invalid(f"method.uri {uri!r} has an invalid port") from None
    host = parsed.hostname.lower()
    reasons = []
    if parsed.scheme not in options.import_allowed_schemes:
        reasons.append(f"scheme {parsed.scheme} is not in [image] import_allowed_schemes")
    if options.import_allowed_hosts and host not in options.import_allowed_hosts:
        reasons.append(f"host {host} is not in [image] import_allowed_hosts")
    if host in options.import_disallowed_hosts:
        reasons.append(f"host {host} is in [image] import_disallowed_hosts")
    if options.import_allowed_ports and port not in options.import_allowed_ports:
        reasons.append(f"port {port} is not in [image] import_allowed_ports")
    if port in options.import_disallowed_ports:
        reasons.append(f"port {port} is in [image] import_disallowed_ports")
    if reasons:
        raise Forbidden(f"web-download from {uri} is not allowed: {'; '.join(reasons)}")


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, conf: Any) -> None:
        self.conf = conf

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        check_uri(self.conf, newurl)  # a redirect must not lead around the filters
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(conf: Any, uri: str) -> Any:
    check_uri(conf, uri)
    opener = urllib.request.build_opener(_CheckedRedirects(conf))
    try:
        return opener.open(uri, timeout=60)
    except urllib.error.HTTPError as exc:
        raise BackendUnavailable(f"{uri} answered {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise BackendUnavailable(f"{uri} unreachable: {exc}") from None


def set_properties(images: ImageService, image_id: str, values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) reserved properties of ``image_id``."""
    Prop = models.ImageProperty
    with images.db.transaction() as session:
        session.execute(sa.delete(Prop).where(Prop.image_id == image_id, Prop.name.in_(list(values))))
        session.add_all(Prop(image_id=image_id, name=k, value=v) for k, v in values.items() if v is not None)


def _staged(images: ImageService, image_id: str) -> models.ImageLocation | None:
    with images.db.transaction() as session:
        return session.scalars(sa.select(models.ImageLocation).where(
            models.ImageLocation.image_id == image_id, models.ImageLocation.store == STAGING)).first()


def _drop_staged(images: ImageService, image_id: str) -> None:
    staged = _staged(images, image_id)
    if staged is not None:
        images.staging.delete(Location(staged.url))
        with images.db.transaction() as session:
            session.execute(sa.delete(models.ImageLocation).where(models.ImageLocation.id == staged.id))


def _stage_from_web(images: ImageService, job: ImportJob) -> None:
    with images.db.transaction() as session:
        limit, why = uploads.byte_limit(images.conf, session, job.owner)
    with _fetch(images.conf, job.uri or "") as response:
        stored = images.staging.add(job.image_id, uploads.HashingReader(response, images.conf.image.chunk_size,
                                                                        limit, why))
    with images.db.transaction() as session:
        session.add(models.ImageLocation(image_id=job.image_id, store=STAGING, url=stored.location.url))
        session.execute(sa.update(models.Image).where(models.Image.id == job.image_id).values(size=stored.size))


def _source(images: ImageService, image_id: str) -> tuple[Any, Location]:
    """Where to read the data from: the staged copy, else the first readable copy."""
    staged = _staged(images, image_id)
    if staged is not None:
        return images.staging, Location(staged.url)
    with images.db.transaction() as session:
        for location in session.scalars(sa.select(models.ImageLocation).where(
                models.ImageLocation.image_id == image_id).order_by(models.ImageLocation.id)):
            if location.store in images.stores:
                return images.stores[location.store], Location(location.url)
    raise Invalid(f"Image {image_id} has no data to import from")


def _copy_to(images: ImageService, job: ImportJob, store_name: str) -> tuple[StoredImage, dict[str, Any]]:
    source, location = _source(images, job.image_id)
    chunk = images.conf.image.chunk_size
    with images.db.transaction() as session:  # what was staged or uploaded: a short copy fails
        size = session.scalar(sa.select(models.Image.size).where(models.Image.id == job.image_id))
    reader = uploads.HashingReader(source.get(location, 0, None, chunk), chunk, expected=size)
    store: WritableStore = images.stores[store_name]  # type: ignore[assignment]
    stored = store.add(job.image_id, reader)
    return stored, reader.checksums


def run(images: ImageService, job: ImportJob, task_id: str | None = None) -> tuple[bool, str]:
    """Carry out ``job``; never raises (failures are recorded on the image, and on its task
    ``task_id`` if given); whether it succeeded and, if not, why."""
    active_before = job.method == "copy-image"
    done: list[tuple[str, StoredImage]] = []
    failed: list[str] = []
    checksums: dict[str, Any] = {}
    why = ""
    if task_id is not None:
        tasks.move(images, task_id, "processing")
    try:
        if job.method == "web-download":
            _stage_from_web(images, job)
        for i, store_name in enumerate(job.stores):
            set_properties(images, job.image_id, {IMPORTING: ",".join(job.stores[i:])})
            try:
                stored, checksums = _copy_to(images, job, store_name)
                done.append((store_name, stored))
            except StratusError as exc:
                LOG.warning("import of image %s into store %s failed: %s", job.image_id, store_name, exc)
                failed.append(store_name)
                why = f"store {store_name}: {exc}"
                if job.all_must_succeed:
                    break
    except Exception as exc:  # the fetch or the staging failed: nothing was copied
        LOG.warning("import of image %s failed: %s", job.image_id, exc)
        failed = list(job.stores)
        why = str(exc) or type(exc).__name__
    succeeded = bool(done) and not (failed and job.all_must_succeed)
    locations = [(name, stored.location.url) for name, stored in done]
    # everything else first: a client sees the status change last, when the rest is settled
    if not active_before:
        _drop_staged(images, job.image_id)
    set_properties(images, job.image_id, {IMPORTING: "", FAILED: ",".join(failed)})  # "" = finished, as Glance
    if succeeded and active_before:
        with images.db.transaction() as session:
            ok = session.scalar(sa.select(models.Image.status).where(models.Image.id == job.image_id)) == "active"
            if ok:
                session.add_all(models.ImageLocation(image_id=job.image_id, store=s, url=u) for s, u in locations)
    elif succeeded:
        ok = states.move(images.db, job.image_id, "importing", "active", locations=locations, **checksums)
    else:
        ok = False
        if not active_before:
            states.move(images.db, job.image_id, "importing", "queued", size=None)
    if not ok:
        _discard(images, done)
        why = why or "the image changed while it was imported"
    if task_id is not None:
        tasks.move(images, task_id, "success" if ok else "failure", message="" if ok else why,
                   result={"image_id": job.image_id} if ok else None)
    return ok, "" if ok else why


def _discard(images: ImageService, done: Iterable[tuple[str, StoredImage]]) -> None:
    for store_name, stored in done:
        store: WritableStore = images.stores[store_name]  # type: ignore[assignment]
        try:
            store.delete(stored.location)
        except StratusError as exc:
            LOG.warning("could not remove %s: %s", stored.location.url, exc)
