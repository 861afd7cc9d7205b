"""Tables owned by the image service.

Tags, extra properties, locations and members are rows of their own (as in Glance), so
list filters on them run in SQL. Deleted images stay as rows with status ``deleted`` so
their ids are never reused; every API query leaves them out.
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from stratus.db.engine import service_base

Base = service_base("image")


class Image(Base):
    __tablename__ = "images"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.String(255), nullable=True, index=True)
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    visibility: Mapped[str] = mapped_column(sa.String(20), index=True)
    protected: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    os_hidden: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(sa.String(64), nullable=True, index=True)
    disk_format: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    container_format: Mapped[str | None] = mapped_column(sa.String(20), nullable=True)
    size: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    virtual_size: Mapped[int | None] = mapped_column(sa.BigInteger, nullable=True)
    checksum: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    os_hash_algo: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    os_hash_value: Mapped[str | None] = mapped_column(sa.String(128), nullable=True)
    min_disk: Mapped[int] = mapped_column(sa.Integer, default=0)
    min_ram: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    deleted_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)

    tags: Mapped[list[ImageTag]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                order_by="ImageTag.value")
    extra: Mapped[list[ImageProperty]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                      order_by="ImageProperty.name")
    locations: Mapped[list[ImageLocation]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                          order_by="ImageLocation.id")


class ImageTag(Base):
    __tablename__ = "image_tags"
    image_id: Mapped[str] = mapped_column(sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255), primary_key=True, index=True)


class ImageProperty(Base):
    __tablename__ = "image_properties"
    image_id: Mapped[str] = mapped_column(sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), primary_key=True, index=True)
    value: Mapped[str] = mapped_column(sa.Text)


class ImageLocation(Base):
    """One copy of an image's data: ``store`` names an enabled store, ``url`` is its location."""

    __tablename__ = "image_locations"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    image_id: Mapped[str] = mapped_column(sa.ForeignKey("images.id", ondelete="CASCADE"), index=True)
    store: Mapped[str] = mapped_column(sa.String(255))
    url: Mapped[str] = mapped_column(sa.Text)


class ImageMember(Base):
    """A project an image is shared with, and whether that project accepted it."""

    __tablename__ = "image_members"
    image_id: Mapped[str] = mapped_column(sa.ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    member: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(sa.String(20))
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class Task(Base):
    """An asynchronous image operation (Glance's tasks): an interoperable import
    (``api_image_import``, tied to its image) or a legacy ``import`` task that makes an image
    from a URL. Kept after it ends until ``expires_at``."""

    __tablename__ = "image_tasks"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    type: Mapped[str] = mapped_column(sa.String(30))
    status: Mapped[str] = mapped_column(sa.String(30), index=True)
    owner: Mapped[str] = mapped_column(sa.String(64), index=True)
    input: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    result: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    message: Mapped[str] = mapped_column(sa.Text, default="")
    image_id: Mapped[str | None] = mapped_column(sa.String(36), nullable=True, index=True)
    request_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), nullable=True)
    expires_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class MetadefNamespace(Base):
    """A metadata definition namespace: properties, objects and tags that describe what may be
    set on images, flavors, volumes... (Glance's metadefs)."""

    __tablename__ = "metadef_namespaces"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace: Mapped[str] = mapped_column(sa.String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(sa.String(80), nullable=True)
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    visibility: Mapped[str] = mapped_column(sa.String(32), default="private")
    protected: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    owner: Mapped[str] = mapped_column(sa.String(255), index=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class MetadefResourceType(Base):
    __tablename__ = "metadef_resource_types"
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    protected: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class MetadefNamespaceResourceType(Base):
    """A namespace applying to a resource type, its properties named with ``prefix``."""

    __tablename__ = "metadef_ns_types"
    namespace_id: Mapped[int] = mapped_column(sa.ForeignKey("metadef_namespaces.id", ondelete="CASCADE"),
                                              primary_key=True)
    resource_type_id: Mapped[int] = mapped_column(sa.ForeignKey("metadef_resource_types.id"), primary_key=True)
    prefix: Mapped[str | None] = mapped_column(sa.String(80), nullable=True)
    properties_target: Mapped[str | None] = mapped_column(sa.String(80), nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)

    resource_type: Mapped[MetadefResourceType] = relationship(lazy="joined")


class MetadefProperty(Base):
    """A property of a namespace: a JSON schema fragment (type, enum, bounds...)."""

    __tablename__ = "metadef_properties"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "name"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(sa.ForeignKey("metadef_namespaces.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    json_schema: Mapped[dict] = mapped_column(sa.JSON)


class MetadefObject(Base):
    """A group of properties that go together (an object of a namespace)."""

    __tablename__ = "metadef_objects"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "name"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(sa.ForeignKey("metadef_namespaces.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    description: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    required: Mapped[list] = mapped_column(sa.JSON)
    json_schema: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)


class MetadefTag(Base):
    __tablename__ = "metadef_tags"
    __table_args__ = (sa.UniqueConstraint("namespace_id", "name"),)
    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    namespace_id: Mapped[int] = mapped_column(sa.ForeignKey("metadef_namespaces.id", ondelete="CASCADE"),
                                              index=True)
    name: Mapped[str] = mapped_column(sa.String(80))
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
