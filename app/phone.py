"""Kenyan mobile numbers, stored and returned as 2547XXXXXXXX / 2541XXXXXXXX."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_PATTERNS = (
    re.compile(r"^0([17][0-9]{8})$"),
    re.compile(r"^\+?254([17][0-9]{8})$"),
)


def normalize_phone(raw: str) -> str:
    """Return the 254-form of a Kenyan mobile number or raise ValueError."""
    if not isinstance(raw, str):
        raise ValueError("Not a valid phone number.")
    compact = _SEPARATORS.sub("", raw.strip())
    for pattern in _PATTERNS:
        match = pattern.match(compact)
        if match:
            return "254" + match.group(1)
    raise ValueError(
        "Not a valid Kenyan mobile number (use 07XXXXXXXX, 01XXXXXXXX or 2547XXXXXXXX)."
    )
