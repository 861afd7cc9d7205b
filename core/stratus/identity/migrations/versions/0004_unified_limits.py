"""unified limits: registered limits and project or domain limits

Revision ID: id0004
Revises: id0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "id0004"
down_revision = "id0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_limits",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=255), nullable=True),
        sa.Column("resource_name", sa.String(length=255), nullable=False),
        sa.Column("default_limit", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_registered_limits_region_id_regions")),
        sa.ForeignKeyConstraint(["service_id"], ["catalog_services.id"],
                                name=op.f("fk_registered_limits_service_id_catalog_services")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_limits")),
    )
    op.create_index(op.f("ix_registered_limits_service_id"), "registered_limits", ["service_id"])
    op.create_table(
        "limits",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("registered_limit_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("domain_id", sa.String(length=64), nullable=True),
        sa.Column("resource_limit", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], name=op.f("fk_limits_domain_id_domains"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_limits_project_id_projects"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["registered_limit_id"], ["registered_limits.id"],
                                name=op.f("fk_limits_registered_limit_id_registered_limits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_limits")),
    )
    op.create_index(op.f("ix_limits_registered_limit_id"), "limits", ["registered_limit_id"])
    op.create_index(op.f("ix_limits_project_id"), "limits", ["project_id"])
    op.create_index(op.f("ix_limits_domain_id"), "limits", ["domain_id"])


def downgrade() -> None:
    op.drop_table("limits")
    op.drop_table("registered_limits")
