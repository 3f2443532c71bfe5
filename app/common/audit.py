from __future__ import annotations

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
) -> AuditLog:
    """Add an audit entry to the current transaction (it commits with the change)."""
    in_request = has_request_context()
    entry = AuditLog(
        actor_id=actor_id if actor_id is not None else (g.get("user_id") if in_request else None),
        action=action,
        target_type=type(target).__name__ if target is not None else None,
        target_id=str(target.id) if target is not None else None,
        details=details or {},
        ip_address=request.remote_addr if in_request else None,
        request_id=g.get("request_id") if in_request else None,
    )
    db.session.add(entry)
    return entry
