"""Alembic migration scripts of the image service."""
