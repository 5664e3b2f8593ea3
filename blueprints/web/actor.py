"""The actor of the current request, for the audit trail."""

from __future__ import annotations

from flask import request, session
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
        staff_id = session.get("impersonating_staff_id")
        if staff_id:
            return Actor(
                kind=STAFF,
                label=f"staff#{staff_id} as {current_user.email}",
                user_id=current_user.id,
                staff_id=staff_id,
                **origin,
            )
        return Actor(kind=USER, label=current_user.email, user_id=current_user.id, **origin)
    return Actor(kind="anonymous", label="anonymous", **origin)
