"""subnet pools and address scopes; subnets carved from a pool

Revision ID: ne0008
Revises: ne0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ne0008"
down_revision = "ne0007"
branch_labels = None
depends_on = None


def _standard() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "address_scopes",
        *_standard(),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_scopes")),
    )
    op.create_index(op.f("ix_address_scopes_project_id"), "address_scopes", ["project_id"])
    op.create_index(op.f("ix_address_scopes_shared"), "address_scopes", ["shared"])
    op.create_table(
        "subnetpools",
        *_standard(),
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("prefixes", sa.JSON(), nullable=False),
        sa.Column("default_prefixlen", sa.Integer(), nullable=False),
        sa.Column("min_prefixlen", sa.Integer(), nullable=False),
        sa.Column("max_prefixlen", sa.Integer(), nullable=False),
        sa.Column("default_quota", sa.Integer(), nullable=True),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("address_scope_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["address_scope_id"], ["address_scopes.id"],
                                name=op.f("fk_subnetpools_address_scope_id_address_scopes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subnetpools")),
    )
    op.create_index(op.f("ix_subnetpools_project_id"), "subnetpools", ["project_id"])
    op.create_index(op.f("ix_subnetpools_shared"), "subnetpools", ["shared"])
    op.create_index(op.f("ix_subnetpools_address_scope_id"), "subnetpools", ["address_scope_id"])
    with op.batch_alter_table("subnets") as batch:
        batch.add_column(sa.Column("subnetpool_id", sa.String(length=36), nullable=True))
        batch.create_foreign_key(op.f("fk_subnets_subnetpool_id_subnetpools"), "subnetpools", ["subnetpool_id"],
                                 ["id"])
        batch.create_index(op.f("ix_subnets_subnetpool_id"), ["subnetpool_id"])


def downgrade() -> None:
    with op.batch_alter_table("subnets") as batch:
        batch.drop_index(op.f("ix_subnets_subnetpool_id"))
        batch.drop_constraint(op.f("fk_subnets_subnetpool_id_subnetpools"), type_="foreignkey")
        batch.drop_column("subnetpool_id")
    op.drop_table("subnetpools")
    op.drop_table("address_scopes")
