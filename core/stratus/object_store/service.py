"""The object service: accounts, containers and objects, with their metadata and listings in
the service's own database and the bytes in the configured object backend.

Every write of an object streams to a fresh backend key first; one transaction then points
the object's row at it (moving the counters of its container and account) and records the
key it replaced as garbage, which is deleted from the backend once that transaction has
committed. So a reader sees the old object or the new one, never a mix, and a failed or
refused write leaves nothing behind. Authorization is the API's; this layer trusts its caller.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from stratus import loading
from stratus.db.engine import Database
from stratus.exceptions import Conflict, NotFound, PayloadTooLarge
from stratus.interfaces.object_backend import ObjectBackendCapability
from stratus.object_store import models
from stratus.object_store.errors import PreconditionFailed, Unprocessable
from stratus.object_store.listing import Listing, Subdir, page

LOG = logging.getLogger(__name__)
ACCOUNT_PREFIX = "AUTH_"


def account_of(project_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{project_id}"


@dataclass(frozen=True, slots=True)
class AccountInfo:
    name: str
    #: False for an account nothing was stored in yet (Swift's autocreated accounts read as empty)
    exists: bool
    created_at: float
    metadata: Mapping[str, str]
    container_count: int
    object_count: int
    bytes_used: int


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    account: str
    name: str
    created_at: float
    changed_at: float
    metadata: Mapping[str, str]
    read_acl: str
    write_acl: str
    versions_location: str | None
    versions_mode: str | None
    object_count: int
    bytes_used: int


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    name: str
    key: str
    size: int
    stored_size: int
    etag: str
    content_type: str
    timestamp: float
    #: lower-cased header name -> value: ``x-object-meta-*`` and the other headers kept
    headers: Mapping[str, str] = field(default_factory=dict)
    delete_at: int | None = None
    kind: str = ""


@dataclass(frozen=True, slots=True)
class ContainerChange:
    """What a container PUT or POST sets; None leaves a field as it is."""

    metadata: Mapping[str, str] = field(default_factory=dict)  # "" removes a key
    read_acl: str | None = None
    write_acl: str | None = None
    #: (mode, container) to version into; ("", "") stops versioning
    versioning: tuple[str, str] | None = None


def _account(row: models.Account | None, name: str) -> AccountInfo:
    if row is None:
        return AccountInfo(name, False, time.time(), {}, 0, 0, 0)
    return AccountInfo(row.name, True, row.created_at, dict(row.metadata_), row.container_count, row.object_count,
                       row.bytes_used)


def _container(row: models.Container) -> ContainerInfo:
    return ContainerInfo(row.account, row.name, row.created_at, row.changed_at, dict(row.metadata_), row.read_acl,
                         row.write_acl, row.versions_location, row.versions_mode, row.object_count, row.bytes_used)


def _object(row: Any) -> ObjectInfo:
    return ObjectInfo(row.name, row.key, row.size, row.stored_size, row.etag, row.content_type, row.timestamp,
                      dict(row.headers), row.delete_at, row.kind)


def merge_metadata(current: Mapping[str, str], change: Mapping[str, str]) -> dict[str, str]:
    merged = dict(current)
    for name, value in change.items():
        if value == "":
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def _quota(metadata: Mapping[str, str], name: str) -> int | None:
    value = metadata.get(name)
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _live(now: float) -> Any:
    return sa.or_(models.Object.delete_at.is_(None), models.Object.delete_at > int(now))


class ObjectService:
    def __init__(self, conf: Any, db: Database | None = None, backend: Any = None) -> None:
        self.conf = conf
        self.db = db or Database.for_service(conf, "object_store")
        self.backend = backend or loading.load_driver("stratus.object_backend", conf.object_store.backend, conf)
        self.backend.setup()
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None

    def close(self) -> None:
        self._stopping.set()
        if self._sweeper is not None:
            self._sweeper.join(timeout=10)
        self.db.dispose()

    # -- accounts ---------------------------------------------------------------------

    def account(self, account: str) -> AccountInfo:
        with self.db.reading() as session:
            return _account(session.get(models.Account, account), account)

    def _ensure_account(self, session: Any, account: str) -> models.Account:
        row = session.get(models.Account, account, with_for_update=True)
        if row is None:
            row = models.Account(name=account, created_at=time.time(), metadata_={}, container_count=0,
                                 object_count=0, bytes_used=0)
            session.add(row)
            session.flush()
        return row

    def update_account(self, account: str, metadata: Mapping[str, str]) -> AccountInfo:
        """Merge ``metadata`` (lower-cased names; "" removes) into the account's."""
        for attempt in range(2):
            try:
                with self.db.transaction() as session:
                    row = self._ensure_account(session, account)
                    row.metadata_ = merge_metadata(row.metadata_, metadata)
                    return _account(row, account)
            except sa.exc.IntegrityError:  # a concurrent first write made the account
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def list_containers(self, account: str, listing: Listing) -> list[ContainerInfo | Subdir]:
        statement = sa.select(models.Container).where(models.Container.account == account)
        with self.db.reading() as session:
            rows = page(lambda q: session.scalars(q).all(), statement, models.Container.name, listing,
                        lambda row: row.name)
            return [row if isinstance(row, Subdir) else _container(row) for row in rows]

    # -- containers -------------------------------------------------------------------

    def container(self, account: str, name: str) -> ContainerInfo:
        """:raises NotFound: no such container."""
        with self.db.reading() as session:
            row = session.scalar(self._container_query(account, name))
            if row is None:
                raise NotFound(f"Container {name} not found")
            return _container(row)

    @staticmethod
    def _container_query(account: str, name: str) -> Any:
        return sa.select(models.Container).where(models.Container.account == account,
                                                 models.Container.name == name)

    @staticmethod
    def _object_query(account: str, container: str, name: str) -> Any:
        return (sa.select(models.Object).join(models.Container, models.Container.id == models.Object.container_id)
                .where(models.Container.account == account, models.Container.name == container,
                       models.Object.name == name))

    def put_container(self, account: str, name: str, change: ContainerChange) -> bool:
        """Create the container or update it as a POST would; True when it was created."""
        for attempt in range(2):
            try:
                with self.db.transaction() as session:
                    row = session.scalar(self._container_query(account, name).with_for_update())
                    if row is not None:
                        self._apply(row, change)
                        return False
                    owner = self._ensure_account(session, account)
                    now = time.time()
                    row = models.Container(account=account, name=name, created_at=now, changed_at=now,
                                           metadata_={}, read_acl="", write_acl="", object_count=0, bytes_used=0)
                    self._apply(row, change)
                    session.add(row)
                    owner.container_count += 1
                    return True
            except sa.exc.IntegrityError:  # made concurrently: update it instead
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def post_container(self, account: str, name: str, change: ContainerChange) -> ContainerInfo:
        """:raises NotFound: no such container."""
        with self.db.transaction() as session:
            row = session.scalar(self._container_query(account, name).with_for_update())
            if row is None:
                raise NotFound(f"Container {name} not found")
            self._apply(row, change)
            return _container(row)

    @staticmethod
    def _apply(row: models.Container, change: ContainerChange) -> None:
        row.metadata_ = merge_metadata(row.metadata_ or {}, change.metadata)
        if change.read_acl is not None:
            row.read_acl = change.read_acl
        if change.write_acl is not None:
            row.write_acl = change.write_acl
        if change.versioning is not None:
            mode, location = change.versioning
            row.versions_mode, row.versions_location = (mode, location) if location else (None, None)
        row.changed_at = time.time()

    def delete_container(self, account: str, name: str) -> None:
        """:raises NotFound: no such container. :raises Conflict: it holds objects."""
        gone: list[str] = []
        with self.db.transaction() as session:
            row = session.scalar(self._container_query(account, name).with_for_update())
            if row is None:
                raise NotFound(f"Container {name} not found")
            now = time.time()
            for expired in session.scalars(sa.select(models.Object).where(
                    models.Object.container_id == row.id, models.Object.delete_at <= int(now))).all():
                gone.append(expired.key)
                self._forget(session, expired, now)
            session.flush()
            held = session.scalar(sa.select(models.Object.name).where(models.Object.container_id == row.id).limit(1))
            if held is not None:
                raise Conflict(f"There was a conflict when trying to complete your request. Container {name} "
                               "is not empty.")
            owner = self._ensure_account(session, account)
            owner.container_count -= 1
            session.delete(row)
        for key in gone:
            self._collect(key)

    def list_objects(self, account: str, container: str, listing: Listing) -> tuple[ContainerInfo,
                                                                                     list[ObjectInfo | Subdir]]:
        """:raises NotFound: no such container."""
        now = time.time()
        with self.db.reading() as session:
            row = session.scalar(self._container_query(account, container))
            if row is None:
                raise NotFound(f"Container {container} not found")
            statement = sa.select(models.Object).where(models.Object.container_id == row.id, _live(now))
            found = page(lambda q: session.scalars(q).all(), statement, models.Object.name, listing,
                         lambda r: r.name)
            return _container(row), [r if isinstance(r, Subdir) else _object(r) for r in found]

    # -- objects ----------------------------------------------------------------------

    def head_object(self, account: str, container: str, name: str) -> ObjectInfo:
        """:raises NotFound: no such object (or it expired)."""
        now = time.time()
        with self.db.reading() as session:
            row = session.scalar(self._object_query(account, container, name).where(_live(now)))
            if row is None:
                raise NotFound(f"Object {name} not found")
            return _object(row)

    def lookup(self, account: str, container: str, name: str) -> tuple[ContainerInfo, ObjectInfo | None]:
        """The container and (None when absent or expired) the object, read together.

        :raises NotFound: no such container.
        """
        now = time.time()
        with self.db.reading() as session:
            row = session.scalar(self._container_query(account, container))
            if row is None:
                raise NotFound(f"Container {container} not found")
            found = session.scalar(sa.select(models.Object).where(
                models.Object.container_id == row.id, models.Object.name == name, _live(now)))
            return _container(row), _object(found) if found is not None else None

    def read(self, info: ObjectInfo, offset: int = 0, length: int | None = None) -> Iterator[bytes]:
        """The bytes of ``info`` (as :meth:`head_object` returned it) from ``offset``."""
        return self.backend.get(info.key, offset, length)

    def check_quota(self, account: str, container: ContainerInfo, name: str, size: int) -> None:
        """Refuse early an object of ``size`` bytes that would pass a quota (the write checks again).

        :raises PayloadTooLarge: the container's or the account's quota would be passed.
        """
        owner = self.account(account)
        if not any(_quota(meta, key) is not None for meta in (container.metadata, owner.metadata)
                   for key in ("quota-bytes", "quota-count")):
            return
        try:
            old = self.head_object(account, container.name, name)
            adding_bytes, adding_objects = size - old.size, 0
        except NotFound:
            adding_bytes, adding_objects = size, 1
        self._check_quota(container.metadata, container.bytes_used, container.object_count, owner,
                          adding_bytes, adding_objects)

    @staticmethod
    def _check_quota(container_meta: Mapping[str, str], bytes_used: int, object_count: int,
                     owner: AccountInfo | models.Account, adding_bytes: int, adding_objects: int) -> None:
        limit = _quota(container_meta, "quota-bytes")
        if limit is not None and adding_bytes > 0 and bytes_used + adding_bytes > limit:
            raise PayloadTooLarge("Upload exceeds quota.")
        limit = _quota(container_meta, "quota-count")
        if limit is not None and adding_objects > 0 and object_count + adding_objects > limit:
            raise PayloadTooLarge("Upload exceeds quota.")
        metadata = owner.metadata if isinstance(owner, AccountInfo) else owner.metadata_
        limit = _quota(metadata, "quota-bytes")
        if limit is not None and adding_bytes > 0 and owner.bytes_used + adding_bytes > limit:
            raise PayloadTooLarge("Upload exceeds quota.")
        limit = _quota(metadata, "quota-count")
        if limit is not None and adding_objects > 0 and owner.object_count + adding_objects > limit:
            raise PayloadTooLarge("Upload exceeds quota.")

    def put_object(self, account: str, container: str, name: str, data: Iterable[bytes], *,
                   content_type: str, headers: Mapping[str, str], delete_at: int | None = None,
                   etag: str | None = None, if_none_match: bool = False, kind: str = "",
                   listed: tuple[int, str] | None = None) -> ObjectInfo:
        """Store an object, replacing any previous one; return what was stored.

        ``etag``: the MD5 the client promised (422 if the bytes differ). ``if_none_match``:
        refuse (412) when the object exists. ``listed``: (size, etag) to list instead of the
        stored bytes' (an SLO manifest lists its segments' total).

        :raises NotFound: no such container. :raises PayloadTooLarge: a quota would be passed.
        """
        if if_none_match:
            with contextlib.suppress(NotFound):
                self.head_object(account, container, name)
                raise PreconditionFailed("The object already exists (If-None-Match: *).")
        key = uuid.uuid4().hex
        stored = self.backend.put(key, data)
        try:
            if etag is not None and etag.strip('"').lower() != stored.etag:
                raise Unprocessable("The ETag sent does not match the MD5 of the data received; nothing was kept.")
            size, listed_etag = listed if listed is not None else (stored.size, stored.etag)
            row = models.Object(name=name, key=key, size=size, stored_size=stored.size, etag=listed_etag,
                                content_type=content_type, timestamp=time.time(), headers=dict(headers),
                                delete_at=delete_at, kind=kind)
            replaced = self._commit_object(account, container, row, if_none_match=if_none_match)
        except BaseException:
            self.backend.delete(key)
            raise
        self._collect(replaced)
        return _object(row)

    def _commit_object(self, account: str, container: str, row: models.Object, *,
                       if_none_match: bool = False) -> str | None:
        """Point ``row``'s name at its new key; return the key it replaced."""
        now = time.time()
        with self.db.transaction() as session:
            owner_row = session.scalar(self._container_query(account, container).with_for_update())
            if owner_row is None:
                raise NotFound(f"Container {container} not found")
            old = session.get(models.Object, (owner_row.id, row.name), with_for_update=True)
            if old is not None and old.delete_at is not None and old.delete_at <= now:
                old_live = False
            else:
                old_live = old is not None
            if if_none_match and old_live:
                raise PreconditionFailed("The object already exists (If-None-Match: *).")
            owner = self._ensure_account(session, account)
            bytes_delta = row.size - (old.size if old is not None else 0)
            count_delta = 0 if old is not None else 1
            self._check_quota(owner_row.metadata_, owner_row.bytes_used, owner_row.object_count, owner,
                              bytes_delta, count_delta)
            replaced = None
            if old is not None:
                replaced = old.key
                session.add(models.Garbage(key=old.key, created_at=now))
                session.delete(old)
                session.flush()
            row.container_id = owner_row.id
            session.add(row)
            owner_row.object_count += count_delta
            owner_row.bytes_used += bytes_delta
            owner.object_count += count_delta
            owner.bytes_used += bytes_delta
            return replaced

    def _collect(self, key: str | None) -> None:
        """Delete a key a committed transaction let go (and its garbage row)."""
        if key is None:
            return
        try:
            self.backend.delete(key)
            with self.db.transaction() as session:
                session.execute(sa.delete(models.Garbage).where(models.Garbage.key == key))
        except Exception:  # the sweep retries it
            LOG.warning("could not delete object data %s yet; the sweep will", key, exc_info=True)

    def post_object(self, account: str, container: str, name: str, *, headers: Mapping[str, str],
                    content_type: str | None, delete_at: int | None) -> ObjectInfo:
        """Replace the object's kept headers (Swift's POST), and its type and expiry.

        :raises NotFound: no such object.
        """
        now = time.time()
        with self.db.transaction() as session:
            row = session.scalar(self._object_query(account, container, name).where(_live(now)).with_for_update())
            if row is None:
                raise NotFound(f"Object {name} not found")
            row.headers = dict(headers)
            if content_type:
                row.content_type = content_type
            row.delete_at = delete_at
            row.timestamp = now
            return _object(row)

    def delete_object(self, account: str, container: str, name: str) -> ObjectInfo:
        """:raises NotFound: no such object (an expired one is gone too, but answers 404)."""
        now = time.time()
        with self.db.transaction() as session:
            row = session.scalar(self._object_query(account, container, name).with_for_update())
            if row is None:
                raise NotFound(f"Object {name} not found")
            expired = row.delete_at is not None and row.delete_at <= now
            info = _object(row)
            self._forget(session, row, now)
        self._collect(info.key)
        if expired:
            raise NotFound(f"Object {name} not found")
        return info

    def _forget(self, session: Any, row: models.Object, now: float) -> None:
        owner_row = session.get(models.Container, row.container_id, with_for_update=True)
        owner = self._ensure_account(session, owner_row.account)
        owner_row.object_count -= 1
        owner_row.bytes_used -= row.size
        owner.object_count -= 1
        owner.bytes_used -= row.size
        session.add(models.Garbage(key=row.key, created_at=now))
        session.delete(row)

    def copy_object(self, source: ObjectInfo, account: str, container: str, name: str, *,
                    content_type: str, headers: Mapping[str, str], delete_at: int | None = None) -> ObjectInfo:
        """Make ``container/name`` a copy of ``source``'s bytes (server-side when the backend
        can) with the given headers.

        :raises NotFound: the source's bytes or the destination container are gone.
        """
        if ObjectBackendCapability.SERVER_SIDE_COPY not in self.backend.capabilities:
            return self.put_object(account, container, name, self.read(source), content_type=content_type,
                                   headers=headers, delete_at=delete_at, kind=source.kind,
                                   listed=(source.size, source.etag) if source.kind else None)
        key = uuid.uuid4().hex
        size = self.backend.copy(source.key, key)
        try:
            row = models.Object(name=name, key=key, size=source.size, stored_size=size, etag=source.etag,
                                content_type=content_type, timestamp=time.time(), headers=dict(headers),
                                delete_at=delete_at, kind=source.kind)
            replaced = self._commit_object(account, container, row)
        except BaseException:
            self.backend.delete(key)
            raise
        self._collect(replaced)
        return _object(row)

    # -- upkeep -----------------------------------------------------------------------

    def sweep(self, batch: int = 500) -> tuple[int, int]:
        """Delete expired objects and the backend keys left as garbage; return how many of each."""
        now = time.time()
        expired = 0
        with self.db.transaction() as session:
            rows = session.scalars(sa.select(models.Object).where(models.Object.delete_at <= int(now))
                                   .limit(batch).with_for_update()).all()
            for row in rows:
                self._forget(session, row, now)
                expired += 1
        with self.db.reading() as session:
            keys = session.scalars(sa.select(models.Garbage.key).limit(batch)).all()
        for key in keys:
            self._collect(key)
        return expired, len(keys)

    def start_sweeper(self) -> None:
        """Sweep every ``[object_store] expirer_interval`` seconds in a thread until :meth:`close`."""
        def loop() -> None:
            while not self._stopping.wait(self.conf.object_store.expirer_interval):
                try:
                    self.sweep()
                except Exception:
                    LOG.warning("object sweep failed; retrying next interval", exc_info=True)

        self._sweeper = threading.Thread(target=loop, name="object-sweeper", daemon=True)
        self._sweeper.start()
