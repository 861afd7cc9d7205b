"""domain-specific configuration and the public ids of users and groups of domain-specific backends

Revision ID: id0005
Revises: id0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "id0005"
down_revision = "id0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_configs",
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("group", sa.String(length=255), nullable=False),
        sa.Column("option", sa.String(length=255), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("sensitive", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], name=op.f("fk_domain_configs_domain_id_domains"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("domain_id", "group", "option", name=op.f("pk_domain_configs")),
    )
    op.create_table(
        "id_mappings",
        sa.Column("public_id", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("local_id", sa.String(length=255), nullable=False),
        sa.Column("entity_type", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], name=op.f("fk_id_mappings_domain_id_domains"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("public_id", name=op.f("pk_id_mappings")),
        sa.UniqueConstraint("domain_id", "local_id", "entity_type",
                            name=op.f("uq_id_mappings_domain_id_local_id_entity_type")),
    )


def downgrade() -> None:
    op.drop_table("id_mappings")
    op.drop_table("domain_configs")
