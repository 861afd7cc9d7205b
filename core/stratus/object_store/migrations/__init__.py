"""Alembic migration scripts of the object service."""
