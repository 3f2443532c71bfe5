from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import g, has_request_context, request

from app.common.models import AuditLog
from app.extensions import db


def record_audit(
    action: str,
    target: Any = None,
    *,
    actor_id: int | None = None,
    details: dict[str, Any] | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
) -> AuditLog:
    """Add an audit entry to the current transaction (it commits with the change).

    The object is ``target`` (its class name and id), or ``target_type``/``target_id``
    for one that is not a row with an id (a setting's key, say)."""
    in_request = has_request_context()
    entry = AuditLog(
        actor_id=actor_id if actor_id is not None else (g.get("user_id") if in_request else None),
        action=action,
        target_type=type(target).__name__ if target is not None else target_type,
        target_id=str(target.id) if target is not None else _text(target_id),
        details=details or {},
        ip_address=request.remote_addr if in_request else None,
        request_id=g.get("request_id") if in_request else None,
    )
    db.session.add(entry)
    return entry


def _text(value: str | int | None) -> str | None:
    return None if value is None else str(value)


def snapshot(target: Any, fields: Iterable[str]) -> dict[str, Any]:
    """``target``'s ``fields`` as JSON can hold them (decimals, enums, times as text)."""
    return {field: _json(getattr(target, field, None)) for field in fields}


def record_change(
    action: str, target: Any, fields: Iterable[str], before: dict[str, Any] | None
) -> AuditLog | None:
    """Audit a write of ``target`` (flushed, so it has its id) with what changed in
    ``fields``: ``before`` is ``snapshot(target, fields)`` taken before the write, None
    for a new object (then every field is "after"). Nothing is recorded when nothing
    changed."""
    after = snapshot(target, fields)
    if before is None:
        return record_audit(action, target, details={"before": None, "after": after})
    changed = [field for field in after if before.get(field) != after[field]]
    if not changed:
        return None
    return record_audit(
        action,
        target,
        details={
            "before": {field: before.get(field) for field in changed},
            "after": {field: after[field] for field in changed},
        },
    )


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str | float | list | dict):
        return value
    return str(value)
