"""image tags, properties, locations and members as rows of their own

The JSON columns of im0001 are copied into the new tables, then dropped.

Revision ID: im0002
Revises: im0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "im0002"
down_revision = "im0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_locations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_locations_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_locations")),
    )
    with op.batch_alter_table("image_locations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_locations_image_id"), ["image_id"], unique=False)

    op.create_table(
        "image_members",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("member", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_members_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "member", name=op.f("pk_image_members")),
    )
    with op.batch_alter_table("image_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_members_member"), ["member"], unique=False)

    op.create_table(
        "image_properties",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_properties_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "name", name=op.f("pk_image_properties")),
    )
    with op.batch_alter_table("image_properties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_properties_name"), ["name"], unique=False)

    op.create_table(
        "image_tags",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"], ["images.id"], name=op.f("fk_image_tags_image_id_images"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("image_id", "value", name=op.f("pk_image_tags")),
    )
    with op.batch_alter_table("image_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_tags_value"), ["value"], unique=False)

    # read before and write after the batch alter: on SQLite it recreates "images", and dropping
    # the old table cascades (foreign keys are on) to rows already in the new child tables
    rows = _read_json_columns()
    with op.batch_alter_table("images", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))
        batch_op.drop_column("properties")
        batch_op.drop_column("location")
        batch_op.drop_column("tags")
        batch_op.drop_column("store")
    _insert(rows)


def _read_json_columns() -> dict[str, list[dict]]:
    images = sa.table(
        "images",
        sa.column("id", sa.String),
        sa.column("properties", sa.JSON),
        sa.column("tags", sa.JSON),
        sa.column("store", sa.String),
        sa.column("location", sa.Text),
    )
    bind = op.get_bind()
    tags, properties, locations = [], [], []
    for row in bind.execute(sa.select(images)):
        tags += [{"image_id": row.id, "value": tag} for tag in row.tags or []]
        properties += [{"image_id": row.id, "name": k, "value": v} for k, v in (row.properties or {}).items()]
        if row.location:
            locations.append({"image_id": row.id, "store": row.store or "", "url": row.location})
    return {"image_tags": tags, "image_properties": properties, "image_locations": locations}


def _insert(tables: dict[str, list[dict]]) -> None:
    for name, rows in tables.items():
        if rows:
            table = sa.table(name, *(sa.column(key) for key in rows[0]))
            op.get_bind().execute(table.insert(), rows)
