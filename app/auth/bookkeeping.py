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
def apart() -> Iterator[OrmSession]:
    """A transaction of its own, committed even though the request will fail.

    The request's transaction is rolled back first: it is failing anyway, and it must
    not hold a row lock this one would wait for (a conditional UPDATE or a SELECT … FOR
    UPDATE that lost a race keeps the row it re-checked locked). Its rows are read again
    on their next use, rather than trusted stale.
    """
    db.session.rollback()
    with OrmSession(db.engine) as session:
        yield session
        session.commit()


def audit_apart(session: OrmSession, action: str, target: Any = None, **kwargs) -> None:
    entry = record_audit(action, target, **kwargs)
    db.session.expunge(entry)
    session.add(entry)
