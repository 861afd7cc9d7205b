"""compute quotas

Revision ID: co0003
Revises: co0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "co0003"
down_revision = "co0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_quotas",
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "resource", name=op.f("pk_compute_quotas")),
    )
