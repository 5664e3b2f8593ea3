"""Passwords: argon2id hashes, at least 12 characters, refused when common.

The common-password list is Django's (about 20,000 passwords, BSD licence), shipped with the app.
"""

from __future__ import annotations

import gzip
import os
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 12
MAX_LENGTH = 200


@cache
def _common() -> frozenset[str]:
    path = os.path.join(os.path.dirname(__file__), "common-passwords.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return frozenset(line.strip().lower() for line in f if line.strip())


def _hasher() -> PasswordHasher:
    # Tests may ask for a cheaper (still argon2id) setting; production keeps the library's defaults.
    if current_app and current_app.config.get("PASSWORD_HASH_FAST"):
        return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return PasswordHasher()


def password_problem(password: str, *, email: str = "", names: tuple[str, ...] = ()) -> str | None:
    """Why ``password`` is refused, or None."""
    if len(password) < MIN_LENGTH:
        return str(_l("Use at least %(n)d characters.", n=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("Use at most %(n)d characters.", n=MAX_LENGTH))
    lowered = password.lower()
    if lowered in _common() or len(set(lowered)) < 4:
        return str(_l("This password is too common: choose another one."))
    personal = [email.split("@")[0].lower(), *(n.lower() for n in names)]
    if any(part and len(part) >= 4 and part in lowered and len(lowered) - len(part) < 6 for part in personal):
        return str(_l("This password is too close to your name or email address."))
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    if not stored:
        # Same work as a real check, so timing does not tell whether the account exists.
        _hasher().hash(password)
        return False
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
