"""segment allocations

Revision ID: ne0005
Revises: ne0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ne0005"
down_revision = "ne0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "segment_allocations",
        sa.Column("network_type", sa.String(length=32), nullable=False),
        sa.Column("physical_network", sa.String(length=64), nullable=False),
        sa.Column("segmentation_id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["network_id"], ["networks.id"], name=op.f("fk_segment_allocations_network_id_networks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "network_type", "physical_network", "segmentation_id", name=op.f("pk_segment_allocations")
        ),
    )
    with op.batch_alter_table("segment_allocations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_segment_allocations_network_id"), ["network_id"], unique=False)
