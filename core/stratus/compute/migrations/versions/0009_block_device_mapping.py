"""a server's block device mapping

Revision ID: co0009
Revises: co0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "co0009"
down_revision = "co0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("block_device_mapping", sa.JSON(), nullable=True))
