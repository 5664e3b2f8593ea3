"""Staff authenticator codes: secrets encrypted at rest, and each code good once.

The secret is encrypted with a key derived from SECRET_KEY (any of SECRET_KEY_FALLBACKS still decrypts, so a
key rotation keeps every enrolment). A code is accepted for the current 30-second step or the one on either
side (clock drift); the step accepted is remembered, and a code of that step or an earlier one is refused,
with a compare-and-set so that two logins racing with one code cannot both pass.
"""

from __future__ import annotations

import hmac
import time

import pyotp
from flask import current_app
from sqlalchemy import or_, update

from blueprints.staff.models import Staff
from blueprints.web.keys import fernet
from tenants.db import db

PURPOSE = "staff-totp"
DRIFT_STEPS = 1


def encrypt_secret(secret: str, config=None) -> str:
    return fernet(config or current_app.config, PURPOSE).encrypt(secret.encode()).decode()


def decrypt_secret(stored: str, config=None) -> str:
    return fernet(config or current_app.config, PURPOSE).decrypt(stored.encode()).decode()


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step whose code is ``code``, within the drift allowed; None when none is."""
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    current = int(now // totp.interval)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def spend_code(staff: Staff, code: str) -> bool:
    """True once per step: the code is right and no later or equal step was used before."""
    step = matching_step(decrypt_secret(staff.totp_secret), code.strip())
    if step is None:
        return False
    spent = db.session.execute(
        update(Staff)
        .where(Staff.id == staff.id, or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    return spent == 1
