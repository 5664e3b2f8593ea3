"""Statements whose SQL differs between PostgreSQL and SQLite, built in one place."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(dialect_name: str):
    """The INSERT construct with ON CONFLICT of ``dialect_name``."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def insert_ignore(target, dialect_name: str, conflict: list[str] | None = None):
    """INSERT … ON CONFLICT [(conflict)] DO NOTHING: a duplicate leaves the caller's transaction intact."""
    return dialect_insert(dialect_name)(target).on_conflict_do_nothing(index_elements=conflict)
