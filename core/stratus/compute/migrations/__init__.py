"""Alembic history of the compute service's tables."""
