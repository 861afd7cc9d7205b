"""endpoint groups and the endpoints tied to projects (OS-EP-FILTER)

Revision ID: id0003
Revises: id0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "id0003"
down_revision = "id0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoint_groups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoint_groups")),
    )
    op.create_table(
        "project_endpoints",
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["endpoints.id"],
                                name=op.f("fk_project_endpoints_endpoint_id_endpoints"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_project_endpoints_project_id_projects"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "endpoint_id", name=op.f("pk_project_endpoints")),
    )
    op.create_index(op.f("ix_project_endpoints_endpoint_id"), "project_endpoints", ["endpoint_id"])
    op.create_table(
        "project_endpoint_groups",
        sa.Column("endpoint_group_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_group_id"], ["endpoint_groups.id"],
                                name=op.f("fk_project_endpoint_groups_endpoint_group_id_endpoint_groups"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_project_endpoint_groups_project_id_projects"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("endpoint_group_id", "project_id", name=op.f("pk_project_endpoint_groups")),
    )
    op.create_index(op.f("ix_project_endpoint_groups_project_id"), "project_endpoint_groups", ["project_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_project_endpoint_groups_project_id"), table_name="project_endpoint_groups")
    op.drop_table("project_endpoint_groups")
    op.drop_index(op.f("ix_project_endpoints_endpoint_id"), table_name="project_endpoints")
    op.drop_table("project_endpoints")
    op.drop_table("endpoint_groups")
