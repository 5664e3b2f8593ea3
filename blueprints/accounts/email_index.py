"""The platform's index of account emails (tenants.models.AccountEmail), kept by the users' own flushes.

Whenever a user row is added, deleted, or changes its email, role or active flag, the index rows of its old
and new address in the tenant in scope are replaced in the same transaction: they commit or roll back with the
change. Only a hash of the normalized address is kept on the platform.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, event, insert, inspect, select
from sqlalchemy.orm import Session

from blueprints.accounts.models import ADMIN, User
from tenants.models import TENANT_ID, AccountEmail

WATCHED = ("email", "role", "active")
_NOTED = "emarge_account_emails"


def email_hash(email: str) -> str:
    return hashlib.sha256(f"emarge-account-email:{email.strip().lower()}".encode()).hexdigest()


def tenants_of(session, email: str) -> list[int]:
    """The ids of the tenants where ``email`` has an active account."""
    table = AccountEmail.__table__
    return list(session.scalars(select(table.c.tenant_id).where(table.c.email_hash == email_hash(email))))


def _old_emails(user: User) -> set[str]:
    history = inspect(user).attrs.email.history
    return {e for e in (*history.deleted, *history.unchanged) if e}


def _watched_change(user: User) -> bool:
    state = inspect(user)
    return any(state.attrs[name].history.has_changes() for name in WATCHED)


def index_rows(connection, tenant_id: int, users) -> None:
    """Replace the index rows of ``users`` (their current emails) in ``tenant_id``."""
    table = AccountEmail.__table__
    rows = {email_hash(u.email): u for u in users if u.email}
    if rows:
        connection.execute(
            delete(table).where(table.c.tenant_id == tenant_id, table.c.email_hash.in_(list(rows)))
        )
    alive = [
        {"email_hash": h, "tenant_id": tenant_id, "is_admin": u.role == ADMIN}
        for h, u in rows.items()
        if u.active
    ]
    if alive:
        connection.execute(insert(table), alive)


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances) -> None:
    # The users whose index rows change, with their addresses before the change (the flush forgets them).
    noted = session.info.setdefault(_NOTED, {})
    for obj in session.new:
        if isinstance(obj, User):
            noted.setdefault(id(obj), (obj, set(), False))
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, User) and (obj in session.deleted or _watched_change(obj)):
            noted[id(obj)] = (obj, _old_emails(obj), obj in session.deleted)


@event.listens_for(Session, "after_flush")
def _after_flush(session, flush_context) -> None:
    noted = session.info.pop(_NOTED, None)
    if not noted:
        return
    tenant_id = session.info.get(TENANT_ID)
    if tenant_id is None:
        return
    kept = [user for user, _old, deleted in noted.values() if not deleted]
    current = {user.email for user in kept}
    gone = {email_hash(e) for _user, old, _deleted in noted.values() for e in old if e not in current}
    connection = session.connection()
    table = AccountEmail.__table__
    if gone:
        connection.execute(
            delete(table).where(table.c.tenant_id == tenant_id, table.c.email_hash.in_(list(gone)))
        )
    index_rows(connection, tenant_id, kept)
