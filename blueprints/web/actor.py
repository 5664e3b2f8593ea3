"""The actor of the current request, for the audit trail."""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from tenants.scope import STAFF, USER, Actor


def request_origin() -> dict:
    return {
        "ip": request.remote_addr,
        "user_agent": request.user_agent.string,
        "language": request.headers.get("Accept-Language", "")[:40] or None,
    }


def request_actor() -> Actor:
    origin = request_origin()
    if current_user.is_authenticated:
        support = g.get("support")
        if support is not None:
            # A support session: the staff member acts, on behalf of the user (both recorded).
            return Actor(
                kind=STAFF,
                label=f"staff#{support.staff_id} as {current_user.email}",
                user_id=current_user.id,
                staff_id=support.staff_id,
                **origin,
            )
        return Actor(kind=USER, label=current_user.email, user_id=current_user.id, **origin)
    return Actor(kind="anonymous", label="anonymous", **origin)
