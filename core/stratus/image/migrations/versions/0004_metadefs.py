"""metadata definitions: namespaces, resource types, properties, objects, tags

Revision ID: im0004
Revises: im0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "im0004"
down_revision = "im0003"
branch_labels = None
depends_on = None

_STAMPS = ("created_at", "updated_at")


def _stamps() -> list[sa.Column]:
    return [sa.Column(name, sa.DateTime(), nullable=False) for name in _STAMPS]


def _in_namespace(table: str) -> list[sa.SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["namespace_id"], ["metadef_namespaces.id"],
                                name=op.f(f"fk_{table}_namespace_id_metadef_namespaces"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f(f"uq_{table}_namespace_id_name")),
    ]


def upgrade() -> None:
    op.create_table(
        "metadef_namespaces",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("namespace", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadef_namespaces")),
        sa.UniqueConstraint("namespace", name=op.f("uq_metadef_namespaces_namespace")),
    )
    op.create_index(op.f("ix_metadef_namespaces_owner"), "metadef_namespaces", ["owner"])
    op.create_table(
        "metadef_resource_types",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metadef_resource_types")),
        sa.UniqueConstraint("name", name=op.f("uq_metadef_resource_types_name")),
    )
    op.create_table(
        "metadef_ns_types",
        sa.Column("namespace_id", sa.Integer(), nullable=False),
        sa.Column("resource_type_id", sa.Integer(), nullable=False),
        sa.Column("prefix", sa.String(length=80), nullable=True),
        sa.Column("properties_target", sa.String(length=80), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["namespace_id"], ["metadef_namespaces.id"],
                                name=op.f("fk_metadef_ns_types_namespace_id_metadef_namespaces"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["resource_type_id"], ["metadef_resource_types.id"],
                                name=op.f("fk_metadef_ns_types_resource_type_id_metadef_resource_types")),
        sa.PrimaryKeyConstraint("namespace_id", "resource_type_id", name=op.f("pk_metadef_ns_types")),
    )
    op.create_table("metadef_properties", *_in_namespace("metadef_properties"),
                    sa.Column("json_schema", sa.JSON(), nullable=False))
    op.create_index(op.f("ix_metadef_properties_namespace_id"), "metadef_properties", ["namespace_id"])
    op.create_table("metadef_objects", *_in_namespace("metadef_objects"),
                    sa.Column("description", sa.Text(), nullable=True),
                    sa.Column("required", sa.JSON(), nullable=False),
                    sa.Column("json_schema", sa.JSON(), nullable=False), *_stamps())
    op.create_index(op.f("ix_metadef_objects_namespace_id"), "metadef_objects", ["namespace_id"])
    op.create_table("metadef_tags", *_in_namespace("metadef_tags"), *_stamps())
    op.create_index(op.f("ix_metadef_tags_namespace_id"), "metadef_tags", ["namespace_id"])


def downgrade() -> None:
    for table in ("metadef_tags", "metadef_objects", "metadef_properties", "metadef_ns_types",
                  "metadef_resource_types", "metadef_namespaces"):
        op.drop_table(table)
