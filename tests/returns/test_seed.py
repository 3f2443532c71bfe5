"""The demo returns: one in each of several states; seeding again adds nothing."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.seed import seed as seed_accounts
from app.catalog.seed import seed as seed_catalog
from app.extensions import db
from app.returns.models import ReturnRequest
from app.returns.seed import seed as seed_returns


def test_the_seed_leaves_returns_in_different_states_once(assert_books_balance):
    assert seed_returns().startswith("skipped")
    seed_accounts()
    seed_catalog()
    db.session.commit()
    assert seed_returns() == "5 returns added (5 in all)"
    db.session.commit()
    assert seed_returns() == "0 returns added (5 in all)"
    statuses = sorted(db.session.scalars(select(ReturnRequest.status)))
    assert statuses == ["APPROVED", "COMPLETED", "DISPUTED", "REQUESTED", "SUPPLIER_REVIEW"]
    assert_books_balance()
