"""The in-room code: 6 characters that change every 30 seconds, derived from a per-slot secret.

code = HMAC-SHA256(secret, "<slot id>:<30-s step>") written in an alphabet without look-alike characters.
The current and the previous step are accepted (a code read just before it changed still works), no older
one: a code photographed and sent on a minute later fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

STEP_SECONDS = 30
LENGTH = 6
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def new_secret() -> str:
    return secrets.token_hex(32)


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_for(secret: str, slot_id: int, step: int) -> str:
    digest = hmac.new(secret.encode(), f"{slot_id}:{step}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(LENGTH):
        number, index = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[index])
    return "".join(chars)


def current_code(secret: str, slot_id: int, now: datetime) -> str:
    return code_for(secret, slot_id, step_of(now))


def seconds_left(now: datetime) -> float:
    return STEP_SECONDS - (now.timestamp() % STEP_SECONDS)


def normalize(typed: str | None) -> str:
    return "".join(ch for ch in (typed or "").upper() if ch.isalnum())


def is_valid(secret: str, slot_id: int, typed: str | None, now: datetime) -> bool:
    code = normalize(typed)
    if len(code) != LENGTH:
        return False
    step = step_of(now)
    # Both compared whatever the first gives: the time taken tells nothing.
    current = hmac.compare_digest(code, code_for(secret, slot_id, step))
    previous = hmac.compare_digest(code, code_for(secret, slot_id, step - 1))
    return current or previous
