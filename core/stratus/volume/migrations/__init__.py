"""Alembic migration scripts of the block-storage service."""
