"""Alembic migration scripts of the servicegroup service."""
