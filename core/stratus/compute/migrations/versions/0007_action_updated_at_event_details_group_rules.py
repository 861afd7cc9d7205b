"""action updated_at, event details, group rules

Revision ID: co0007
Revises: co0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "co0007"
down_revision = "co0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instance_action_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=True))

    with op.batch_alter_table("instance_actions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_instance_actions_updated_at"), ["updated_at"], unique=False)
    op.execute("UPDATE instance_actions SET updated_at = start_time")

    with op.batch_alter_table("instance_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rules", sa.JSON(), nullable=True))
