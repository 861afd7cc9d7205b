"""server groups

Revision ID: co0004
Revises: co0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "co0004"
down_revision = "co0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance_groups",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("policy", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_instance_groups")),
    )
    with op.batch_alter_table("instance_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instance_groups_project_id"), ["project_id"], unique=False)

    op.create_table(
        "instance_group_members",
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("group_uuid", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_uuid"],
            ["instance_groups.uuid"],
            name=op.f("fk_instance_group_members_group_uuid_instance_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instance_uuid", name=op.f("pk_instance_group_members")),
    )
    with op.batch_alter_table("instance_group_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_instance_group_members_group_uuid"), ["group_uuid"], unique=False)
