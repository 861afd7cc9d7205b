"""identity tables

Revision ID: id0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "id0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_services",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_services")),
    )
    with op.batch_alter_table("catalog_services", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_catalog_services_type"), ["type"], unique=False)

    op.create_table(
        "domains",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_domains")),
        sa.UniqueConstraint("name", name=op.f("uq_domains_name")),
    )
    op.create_table(
        "regions",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("parent_region_id", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["parent_region_id"], ["regions.id"], name=op.f("fk_regions_parent_region_id_regions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
    )
    op.create_table(
        "revocation_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("audit_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("domain_id", sa.String(length=64), nullable=True),
        sa.Column("role_id", sa.String(length=64), nullable=True),
        sa.Column("issued_before_us", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at_us", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocation_events")),
    )
    with op.batch_alter_table("revocation_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revocation_events_audit_id"), ["audit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_revocation_events_revoked_at_us"), ["revoked_at_us"], unique=False)

    op.create_table(
        "roles",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("name", "domain_id", name=op.f("uq_roles_name_domain_id")),
    )
    op.create_table(
        "assignments",
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("role_id", sa.String(length=64), nullable=False),
        sa.Column("inherited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_assignments_role_id_roles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("type", "actor_id", "target_id", "role_id", "inherited", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_target_id"), ["target_id"], unique=False)

    op.create_table(
        "endpoints",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("interface", sa.String(length=8), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("region_id", sa.String(length=255), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["region_id"], ["regions.id"], name=op.f("fk_endpoints_region_id_regions")),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["catalog_services.id"],
            name=op.f("fk_endpoints_service_id_catalog_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endpoints")),
    )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoints_service_id"), ["service_id"], unique=False)

    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], name=op.f("fk_groups_domain_id_domains")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_groups_domain_id_name")),
    )
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_groups_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "implied_roles",
        sa.Column("prior_role_id", sa.String(length=64), nullable=False),
        sa.Column("implied_role_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["implied_role_id"], ["roles.id"], name=op.f("fk_implied_roles_implied_role_id_roles"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["prior_role_id"], ["roles.id"], name=op.f("fk_implied_roles_prior_role_id_roles"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("prior_role_id", "implied_role_id", name=op.f("pk_implied_roles")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], name=op.f("fk_projects_domain_id_domains")),
        sa.ForeignKeyConstraint(["parent_id"], ["projects.id"], name=op.f("fk_projects_parent_id_projects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_projects_domain_id_name")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain_id", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_project_id", sa.String(length=64), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("password_created_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], name=op.f("fk_users_domain_id_domains")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("domain_id", "name", name=op.f("uq_users_domain_id_name")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "application_credentials",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("unrestricted", sa.Boolean(), nullable=False),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_application_credentials_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_credentials")),
        sa.UniqueConstraint("user_id", "name", name=op.f("uq_application_credentials_user_id_name")),
    )
    with op.batch_alter_table("application_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_credentials_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_group_memberships",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_user_group_memberships_group_id_groups"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_user_group_memberships_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "group_id", name=op.f("pk_user_group_memberships")),
    )
    with op.batch_alter_table("user_group_memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_group_memberships_group_id"), ["group_id"], unique=False)
