"""The portal's seed: demo suppliers on the current terms with payout numbers, one
pending payout number change; safe to run twice."""

from __future__ import annotations

from sqlalchemy import select

from app.auth import seed as accounts_seed
from app.auth.models import SupplierProfile
from app.extensions import db
from app.payout_numbers.models import PayoutNumberRequest
from app.supplier import seed as portal_seed
from app.supplier.terms import accepted_current_terms


def test_the_seed_is_complete_and_idempotent():
    accounts_seed.seed()
    for _ in range(2):
        portal_seed.seed()
        db.session.commit()

    suppliers = db.session.scalars(select(SupplierProfile)).all()
    assert len(suppliers) == 3
    assert all(accepted_current_terms(s) and s.mpesa_payout_number for s in suppliers)
    requests = db.session.scalars(select(PayoutNumberRequest)).all()
    assert [(r.status, r.new_number) for r in requests] == [("PENDING", "254733999002")]
    assert requests[0].old_number == "254733000002"
