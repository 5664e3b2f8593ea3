"""The keys that sign and encrypt: the current ``SECRET_KEY`` and the ``SECRET_KEY_FALLBACKS`` still accepted.

Rotating the key: set the new ``SECRET_KEY`` and put the old one in ``SECRET_KEY_FALLBACKS``. Everything signed
before (sessions, emailed sign-in links, consent cookies, live-page tokens) still verifies; everything new is
signed with the new key. Drop the fallback once the longest-lived of those has expired.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def secret_keys(config: Mapping) -> list[str]:
    """Oldest first, the current key last: the order itsdangerous (and Flask's sessions) expect."""
    return [*(config.get("SECRET_KEY_FALLBACKS") or ()), config["SECRET_KEY"]]


def derived_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so no two uses share a key (encryption vs signing)."""
    return hmac.new(secret.encode(), f"emarge:{purpose}".encode(), hashlib.sha256).digest()


def fernet(config: Mapping, purpose: str):
    """Encrypts with the current key, decrypts with any key still accepted."""
    from cryptography.fernet import Fernet, MultiFernet

    keys = reversed(secret_keys(config))  # MultiFernet encrypts with the first
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived_key(key, purpose))) for key in keys])
