"""Password hashing with bcrypt at the configured work factor (``BCRYPT_ROUNDS``)."""

from __future__ import annotations

import bcrypt
from flask import current_app

from app.auth.models import User
from app.errors import BadRequest

# bcrypt only reads the first 72 bytes; longer passwords are refused, never truncated.
MAX_PASSWORD_BYTES = 72


def hash_password(password: str) -> str:
    rounds = current_app.config["BCRYPT_ROUNDS"]
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def _dummy_hash() -> bytes:
    """A hash at the current cost, so a check for a missing account costs the same."""
    rounds = current_app.config["BCRYPT_ROUNDS"]
    cache = current_app.extensions.setdefault("qg_dummy_hashes", {})
    if rounds not in cache:
        cache[rounds] = bcrypt.hashpw(b"no such account", bcrypt.gensalt(rounds=rounds))
    return cache[rounds]


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check ``password``; with no hash (no account, OAuth-only) do the same work anyway."""
    candidate = password.encode()
    if len(candidate) > MAX_PASSWORD_BYTES:
        candidate = candidate[:MAX_PASSWORD_BYTES]
        password_hash = None  # cannot be a password we accepted
    if password_hash is None:
        bcrypt.checkpw(candidate, _dummy_hash())
        return False
    return bcrypt.checkpw(candidate, password_hash.encode())


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made at another work factor than the configured one."""
    return int(password_hash.split("$")[2]) != current_app.config["BCRYPT_ROUNDS"]


def check_current_password(user: User, password: str, field: str) -> None:
    """400 ``INVALID_PASSWORD`` on ``field`` unless ``password`` is the user's."""
    if not verify_password(password, user.password_hash):
        raise BadRequest(
            "The password is not correct",
            code="INVALID_PASSWORD",
            details={field: ["The password is not correct."]},
        )
