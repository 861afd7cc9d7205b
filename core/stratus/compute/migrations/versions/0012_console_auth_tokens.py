"""console auth tokens: what a remote console URL grants, hashed

Revision ID: co0012
Revises: co0011
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "co0012"
down_revision = "co0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_auth_tokens",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("instance_uuid", sa.String(length=36), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("protocol", sa.String(length=16), nullable=False),
        sa.Column("console_type", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_console_auth_tokens_instance_uuid", "console_auth_tokens", ["instance_uuid"])
    op.create_index("ix_console_auth_tokens_expires_at", "console_auth_tokens", ["expires_at"])


def downgrade() -> None:
    op.drop_table("console_auth_tokens")
