"""Payout test data: suppliers with money available (posted as the ledger posts it)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from app.db import utcnow
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import Party, PartyRole
from app.ledger.operations import Line, party_line, post
from tests.factories.auth import SupplierProfileFactory

_numbers = itertools.count(1)


def paying_supplier(**kwargs):
    """An approved supplier who accepted the current terms, with a payout number that
    the simulator pays (ending in 1-9; one ending in 0 fails)."""
    from flask import current_app

    kwargs.setdefault("mpesa_payout_number", f"2547{next(_numbers) % 10_000_000:07d}1")
    kwargs.setdefault("terms_accepted_at", utcnow())
    kwargs.setdefault("terms_version", current_app.config["SUPPLIER_TERMS_VERSION"])
    return SupplierProfileFactory(**kwargs)


def earn(supplier_id: int, amount: str, *, key: str | None = None, party=Party.SUPPLIER) -> None:
    """``amount`` received by M-Pesa and released to the payee's AVAILABLE."""
    value = Decimal(amount)
    post(
        key or f"test-earned:{party}:{supplier_id}:{amount}",
        "test-earned",
        [
            Line(A.MPESA_CLEARING, value),
            party_line(party, supplier_id, PartyRole.AVAILABLE, -value),
        ],
    )
    db.session.commit()
