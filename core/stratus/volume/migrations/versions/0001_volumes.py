"""volumes, snapshots, types, attachments, pools, quotas

Revision ID: vo0001
Revises:
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "vo0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volume_types",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_volume_types"),
        sa.UniqueConstraint("name", name="uq_volume_types_name"),
    )
    op.create_table(
        "volume_type_extra_specs",
        sa.Column("type_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["type_id"], ["volume_types.id"], ondelete="CASCADE",
                                name="fk_volume_type_extra_specs_type_id_volume_types"),
        sa.PrimaryKeyConstraint("type_id", "key", name="pk_volume_type_extra_specs"),
    )
    op.create_table(
        "volume_type_projects",
        sa.Column("type_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(["type_id"], ["volume_types.id"], ondelete="CASCADE",
                                name="fk_volume_type_projects_type_id_volume_types"),
        sa.PrimaryKeyConstraint("type_id", "project_id", name="pk_volume_type_projects"),
    )
    op.create_table(
        "volumes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attach_status", sa.String(32), nullable=False),
        sa.Column("migration_status", sa.String(32), nullable=True),
        sa.Column("availability_zone", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("volume_type_id", sa.String(36), nullable=False),
        sa.Column("bootable", sa.Boolean(), nullable=False),
        sa.Column("multiattach", sa.Boolean(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("readonly", sa.Boolean(), nullable=True),
        sa.Column("snapshot_id", sa.String(36), nullable=True),
        sa.Column("source_volid", sa.String(36), nullable=True),
        sa.Column("image_id", sa.String(36), nullable=True),
        sa.Column("backup_id", sa.String(36), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("launched_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volume_type_id"], ["volume_types.id"],
                                name="fk_volumes_volume_type_id_volume_types"),
        sa.PrimaryKeyConstraint("id", name="pk_volumes"),
    )
    op.create_index("ix_volumes_project_id_created_at", "volumes", ["project_id", "created_at"])
    op.create_index("ix_volumes_host", "volumes", ["host"])
    for table, value in (("volume_metadata", sa.String(255)), ("volume_image_metadata", sa.Text())):
        op.create_table(
            table,
            sa.Column("volume_id", sa.String(36), nullable=False),
            sa.Column("key", sa.String(255), nullable=False),
            sa.Column("value", value, nullable=False),
            sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="CASCADE",
                                    name=f"fk_{table}_volume_id_volumes"),
            sa.PrimaryKeyConstraint("volume_id", "key", name=f"pk_{table}"),
        )
    op.create_table(
        "volume_attachments",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("volume_id", sa.String(36), nullable=False),
        sa.Column("instance_uuid", sa.String(36), nullable=True),
        sa.Column("attached_host", sa.String(255), nullable=True),
        sa.Column("mountpoint", sa.String(255), nullable=True),
        sa.Column("attach_mode", sa.String(8), nullable=False),
        sa.Column("attach_status", sa.String(32), nullable=False),
        sa.Column("connector", sa.JSON(), nullable=True),
        sa.Column("connection_info", sa.JSON(), nullable=True),
        sa.Column("attach_time", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="CASCADE",
                                name="fk_volume_attachments_volume_id_volumes"),
        sa.PrimaryKeyConstraint("id", name="pk_volume_attachments"),
    )
    op.create_index("ix_volume_attachments_volume_id", "volume_attachments", ["volume_id"])
    op.create_index("ix_volume_attachments_instance_uuid", "volume_attachments", ["instance_uuid"])
    op.create_table(
        "volume_snapshots",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("volume_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("progress", sa.String(8), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], name="fk_volume_snapshots_volume_id_volumes"),
        sa.PrimaryKeyConstraint("id", name="pk_volume_snapshots"),
    )
    op.create_index("ix_volume_snapshots_volume_id", "volume_snapshots", ["volume_id"])
    op.create_index("ix_volume_snapshots_project_id", "volume_snapshots", ["project_id"])
    op.create_table(
        "volume_snapshot_metadata",
        sa.Column("snapshot_id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.ForeignKeyConstraint(["snapshot_id"], ["volume_snapshots.id"], ondelete="CASCADE",
                                name="fk_volume_snapshot_metadata_snapshot_id_volume_snapshots"),
        sa.PrimaryKeyConstraint("snapshot_id", "key", name="pk_volume_snapshot_metadata"),
    )
    op.create_table(
        "volume_pools",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("volume_backend_name", sa.String(255), nullable=False),
        sa.Column("availability_zone", sa.String(255), nullable=False),
        sa.Column("vendor_name", sa.String(255), nullable=False),
        sa.Column("storage_protocol", sa.String(64), nullable=False),
        sa.Column("total_gb", sa.Float(), nullable=False),
        sa.Column("free_gb", sa.Float(), nullable=False),
        sa.Column("provisioned_gb", sa.Float(), nullable=False),
        sa.Column("allocated_gb", sa.Integer(), nullable=False),
        sa.Column("max_over_subscription_ratio", sa.Float(), nullable=False),
        sa.Column("reserved_percentage", sa.Integer(), nullable=False),
        sa.Column("thin_provisioning", sa.Boolean(), nullable=False),
        sa.Column("multiattach", sa.Boolean(), nullable=False),
        sa.Column("capabilities", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_volume_pools"),
    )
    op.create_index("ix_volume_pools_host", "volume_pools", ["host"])
    op.create_table(
        "volume_backups",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("volume_id", sa.String(36), nullable=False),
        sa.Column("snapshot_id", sa.String(36), nullable=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("availability_zone", sa.String(255), nullable=True),
        sa.Column("container", sa.String(255), nullable=True),
        sa.Column("parent_id", sa.String(36), nullable=True),
        sa.Column("is_incremental", sa.Boolean(), nullable=False),
        sa.Column("object_count", sa.Integer(), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("fail_reason", sa.Text(), nullable=True),
        sa.Column("backup_metadata", sa.JSON(), nullable=False),
        sa.Column("data_timestamp", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_volume_backups"),
    )
    op.create_index("ix_volume_backups_volume_id", "volume_backups", ["volume_id"])
    op.create_index("ix_volume_backups_project_id", "volume_backups", ["project_id"])
    op.create_index("ix_volume_backups_parent_id", "volume_backups", ["parent_id"])
    op.create_table(
        "volume_transfers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("volume_id", sa.String(36), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=True),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("crypt_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["volume_id"], ["volumes.id"], ondelete="CASCADE",
                                name="fk_volume_transfers_volume_id_volumes"),
        sa.PrimaryKeyConstraint("id", name="pk_volume_transfers"),
        sa.UniqueConstraint("volume_id", name="uq_volume_transfers_volume_id"),
    )
    op.create_index("ix_volume_transfers_project_id", "volume_transfers", ["project_id"])
    op.create_table(
        "volume_quotas",
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "resource", name="pk_volume_quotas"),
    )
    op.create_table(
        "volume_quota_classes",
        sa.Column("class_name", sa.String(255), nullable=False),
        sa.Column("resource", sa.String(255), nullable=False),
        sa.Column("hard_limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("class_name", "resource", name="pk_volume_quota_classes"),
    )
    op.create_table(
        "volume_quota_locks",
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("project_id", name="pk_volume_quota_locks"),
    )
