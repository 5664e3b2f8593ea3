"""Statements whose SQL differs between PostgreSQL and SQLite, built in one place."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from tenants.changes import NOTED_BY_CALLER, note_change


def dialect_insert(dialect_name: str):
    """The INSERT construct with ON CONFLICT of ``dialect_name``."""
    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


def insert_ignore(target, dialect_name: str, conflict: list[str] | None = None):
    """INSERT … ON CONFLICT [(conflict)] DO NOTHING: a duplicate leaves the caller's transaction intact."""
    return dialect_insert(dialect_name)(target).on_conflict_do_nothing(index_elements=conflict)


def insert_or_nothing(
    session, model, values: dict, conflict: list[str] | None = None, *, returning_row=False
):
    """Insert one ``model`` row in ``session``'s transaction unless it would be a duplicate.

    Returns the new row's id (with ``returning_row``: the new row, loaded), or None when a row with the same
    ``conflict`` columns already exists: two requests racing to make the same row both succeed.
    """
    statement = (
        insert_ignore(model, session.get_bind().dialect.name, conflict)
        .values(**values)
        .execution_options(**{NOTED_BY_CALLER: True})
    )
    if returning_row:
        inserted = session.scalars(statement.returning(model)).first()
    else:
        pk = model.__table__.primary_key.columns.values()[0]
        inserted = session.execute(statement.returning(pk)).scalar()
    if inserted is not None:
        note_change(session, model.__tablename__)
    return inserted
