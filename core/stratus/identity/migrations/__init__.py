"""Alembic migration scripts of the identity service."""
