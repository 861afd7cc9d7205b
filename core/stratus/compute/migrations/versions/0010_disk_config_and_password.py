"""servers' disk config and encrypted password; security groups recorded as their ports have them;
quota classes; the task log of the instance usage audit

Revision ID: co0010
Revises: co0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "co0010"
down_revision = "co0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("task_name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("period_beginning", sa.DateTime(), nullable=False),
        sa.Column("period_ending", sa.DateTime(), nullable=False),
        sa.Column("message", sa.String(length=255), nullable=False),
        sa.Column("task_items", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_name", "host", "period_beginning", "period_ending"),
    )
    with op.batch_alter_table("task_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_task_log_host"), ["host"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_log_period_beginning"), ["period_beginning"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_log_period_ending"), ["period_ending"], unique=False)
    op.create_table(
        "compute_quota_classes",
        sa.Column("class_name", sa.String(length=255), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("class_name", "resource"),
    )
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auto_disk_config", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("password", sa.Text(), nullable=True))
    # an empty list used to mean "the default group" for a server with networks; now it means none
    instances = sa.table("instances", sa.column("uuid", sa.String), sa.column("security_groups", sa.JSON),
                         sa.column("requested_networks", sa.JSON))
    connection = op.get_bind()
    for uuid, groups, networks in connection.execute(sa.select(instances.c.uuid, instances.c.security_groups,
                                                               instances.c.requested_networks)).all():
        if not groups and networks:
            connection.execute(instances.update().where(instances.c.uuid == uuid).values(security_groups=["default"]))
