"""Tables owned by the servicegroup service."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from stratus.db.engine import service_base

Base = service_base("servicegroup")


class ServiceRecord(Base):
    __tablename__ = "services"
    __table_args__ = (sa.UniqueConstraint("host", "binary"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    host: Mapped[str] = mapped_column(sa.String(255))
    binary: Mapped[str] = mapped_column(sa.String(64))
    topic: Mapped[str] = mapped_column(sa.String(64))
    report_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    disabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(255), nullable=True)
    forced_down: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime.datetime] = mapped_column(sa.DateTime)
    updated_at: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
    last_seen_up: Mapped[datetime.datetime | None] = mapped_column(sa.DateTime, nullable=True)
