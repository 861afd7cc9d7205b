"""compute services under Nova's binary names

Revision ID: sg0002
Revises: sg0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sg0002"
down_revision = "sg0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    services = sa.table("services", sa.column("binary", sa.String))
    for part in ("compute", "conductor", "scheduler"):
        op.execute(services.update().where(services.c.binary == f"stratus-{part}").values(binary=f"nova-{part}"))
