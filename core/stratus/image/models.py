"""Tables owned by the image service."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

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
    properties: Mapped[dict[str, str]] = mapped_column(sa.JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    store: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    location: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
