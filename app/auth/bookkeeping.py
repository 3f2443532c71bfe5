"""Security bookkeeping that must outlive the error answer that follows it.

Failed logins and lockouts, wrong OTP attempts: ``apart`` writes them in a transaction
of its own, committed even though the request then fails, like the refresh-token reuse
revocation in ``tokens``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session as OrmSession

from app.common.audit import record_audit
from app.extensions import db


@contextmanager
def apart(*changed: Any) -> Iterator[OrmSession]:
    """A transaction of its own, committed even though the request will fail.

    ``changed`` are this request's copies of the rows it updates: they are expired,
    so the request's session reads them again rather than trust stale values.
    """
    with OrmSession(db.engine) as session:
        yield session
        session.commit()
    for row in changed:
        db.session.expire(row)


def audit_apart(session: OrmSession, action: str, target: Any = None, **kwargs) -> None:
    entry = record_audit(action, target, **kwargs)
    db.session.expunge(entry)
    session.add(entry)
