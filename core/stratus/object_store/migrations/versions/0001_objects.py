"""accounts, containers, objects, garbage keys

Revision ID: ob0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from stratus.object_store.models import Name

revision = "ob0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "object_accounts",
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("container_count", sa.BigInteger(), nullable=False),
        sa.Column("object_count", sa.BigInteger(), nullable=False),
        sa.Column("bytes_used", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_object_accounts"),
    )
    op.create_table(
        "object_containers",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("account", sa.String(256), nullable=False),
        sa.Column("name", Name(256), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("changed_at", sa.Float(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("read_acl", sa.Text(), nullable=False),
        sa.Column("write_acl", sa.Text(), nullable=False),
        sa.Column("versions_location", Name(256), nullable=True),
        sa.Column("versions_mode", sa.String(16), nullable=True),
        sa.Column("object_count", sa.BigInteger(), nullable=False),
        sa.Column("bytes_used", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account"], ["object_accounts.name"],
                                name="fk_object_containers_account_object_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_object_containers"),
        sa.UniqueConstraint("account", "name", name="uq_object_containers_account_name"),
    )
    op.create_table(
        "object_objects",
        sa.Column("container_id", ID, nullable=False),
        sa.Column("name", Name(1024), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("stored_size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(256), nullable=False),
        sa.Column("timestamp", sa.Float(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("delete_at", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(["container_id"], ["object_containers.id"], ondelete="CASCADE",
                                name="fk_object_objects_container_id_object_containers"),
        sa.PrimaryKeyConstraint("container_id", "name", name="pk_object_objects"),
    )
    op.create_index("ix_object_objects_delete_at", "object_objects", ["delete_at"])
    op.create_table(
        "object_garbage",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_object_garbage"),
    )


def downgrade() -> None:
    op.drop_table("object_garbage")
    op.drop_index("ix_object_objects_delete_at", table_name="object_objects")
    op.drop_table("object_objects")
    op.drop_table("object_containers")
    op.drop_table("object_accounts")
