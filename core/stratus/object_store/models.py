"""Tables owned by the object service: accounts, containers, objects and the backend keys
waiting to be deleted.

Names are stored as their UTF-8 bytes, so every database orders them as Swift lists them
(byte order) whatever its collation, and a prefix is a byte range. An account's and a
container's counters move in the same transaction as the rows they count.
"""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

from stratus.db.engine import service_base

Base = service_base("object_store")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


class Name(sa.TypeDecorator):
    """A name kept as its UTF-8 bytes (compared byte by byte); bytes bind as they are."""

    impl = sa.LargeBinary
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__()
        self.length = length

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.VARBINARY(self.length))
        return dialect.type_descriptor(sa.LargeBinary(self.length))

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return value.encode() if isinstance(value, str) else value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return bytes(value).decode() if value is not None else None


class Account(Base):
    __tablename__ = "object_accounts"

    #: ``AUTH_<project id>``
    name: Mapped[str] = mapped_column(sa.String(256), primary_key=True)
    created_at: Mapped[float] = mapped_column(sa.Float)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", sa.JSON, default=dict)
    container_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    object_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    bytes_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class Container(Base):
    __tablename__ = "object_containers"
    __table_args__ = (sa.UniqueConstraint("account", "name"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    account: Mapped[str] = mapped_column(sa.String(256), sa.ForeignKey("object_accounts.name"))
    name: Mapped[str] = mapped_column(Name(256))
    created_at: Mapped[float] = mapped_column(sa.Float)
    #: last change of the container's own metadata (Swift's put/post timestamp)
    changed_at: Mapped[float] = mapped_column(sa.Float)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", sa.JSON, default=dict)
    read_acl: Mapped[str] = mapped_column(sa.Text, default="")
    write_acl: Mapped[str] = mapped_column(sa.Text, default="")
    #: container older versions go to, and how (``stack``: X-Versions-Location, ``history``)
    versions_location: Mapped[str | None] = mapped_column(Name(256), nullable=True)
    versions_mode: Mapped[str | None] = mapped_column(sa.String(16), nullable=True)
    object_count: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    bytes_used: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class Object(Base):
    __tablename__ = "object_objects"

    container_id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("object_containers.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(Name(1024), primary_key=True)
    #: the backend key holding the bytes (a new one for every write)
    key: Mapped[str] = mapped_column(sa.String(128))
    #: bytes as listed and counted (an SLO manifest: the sum of its segments)
    size: Mapped[int] = mapped_column(sa.BigInteger)
    #: bytes in the backend (the manifest's own JSON for an SLO)
    stored_size: Mapped[int] = mapped_column(sa.BigInteger)
    etag: Mapped[str] = mapped_column(sa.String(64))
    content_type: Mapped[str] = mapped_column(sa.String(256))
    #: seconds since the epoch (Swift's X-Timestamp)
    timestamp: Mapped[float] = mapped_column(sa.Float)
    #: user metadata (``X-Object-Meta-*``) and the headers Swift keeps with an object
    #: (Content-Disposition, Content-Encoding, X-Object-Manifest...), by lower-cased header name
    headers: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    delete_at: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True, index=True)
    #: ``slo`` for a static large object's manifest
    kind: Mapped[str] = mapped_column(sa.String(8), default="")


class Garbage(Base):
    """A backend key no row points at any more, deleted from the backend after the
    transaction that let it go commits (and by the sweep, if that deletion never ran)."""

    __tablename__ = "object_garbage"

    key: Mapped[str] = mapped_column(sa.String(128), primary_key=True)
    created_at: Mapped[float] = mapped_column(sa.Float)
