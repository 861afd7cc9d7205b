"""resource tags (standard-attr-tag) and routers' static routes (extraroute)

Revision ID: ne0007
Revises: ne0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ne0007"
down_revision = "ne0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_tags",
        sa.Column("resource_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "tag", name=op.f("pk_resource_tags")),
    )
    op.create_index(op.f("ix_resource_tags_tag"), "resource_tags", ["tag"])
    op.create_table(
        "router_routes",
        sa.Column("router_id", sa.String(length=36), nullable=False),
        sa.Column("destination", sa.String(length=64), nullable=False),
        sa.Column("nexthop", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["router_id"], ["routers.id"], name=op.f("fk_router_routes_router_id_routers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("router_id", "destination", "nexthop", name=op.f("pk_router_routes")),
    )


def downgrade() -> None:
    op.drop_table("router_routes")
    op.drop_index(op.f("ix_resource_tags_tag"), table_name="resource_tags")
    op.drop_table("resource_tags")
