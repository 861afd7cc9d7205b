"""host aggregates (zones come from them, not from compute nodes)

Revision ID: co0008
Revises: co0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "co0008"
down_revision = "co0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aggregates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aggregates")),
        sa.UniqueConstraint("name", name=op.f("uq_aggregates_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_aggregates_uuid")),
    )
    for table, column, kind in (("aggregate_hosts", "host", None), ("aggregate_metadata", "key", "value")):
        op.create_table(
            table,
            sa.Column("aggregate_id", sa.Integer(), nullable=False),
            sa.Column(column, sa.String(length=255), nullable=False),
            *([sa.Column(kind, sa.String(length=255), nullable=False)] if kind else []),
            sa.ForeignKeyConstraint(["aggregate_id"], ["aggregates.id"],
                                    name=op.f(f"fk_{table}_aggregate_id_aggregates"), ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("aggregate_id", column, name=op.f(f"pk_{table}")),
        )
    with op.batch_alter_table("aggregate_hosts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aggregate_hosts_host"), ["host"], unique=False)
    with op.batch_alter_table("compute_nodes", schema=None) as batch_op:
        batch_op.drop_column("availability_zone")
