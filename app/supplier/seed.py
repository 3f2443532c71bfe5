"""Demo supplier portal data: the demo suppliers have accepted the terms in force and
have a payout number (the accounts seed gives them one); the second one has asked to
change it (a pending request for the admins' queue). Idempotent."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import SupplierProfile, User
from app.db import utcnow
from app.extensions import db
from app.payout_numbers import operations as payout_numbers
from app.supplier.terms import accepted_current_terms, current_terms_version

DOMAIN = "quantumgear.co.ke"
SUPPLIERS = ("supplier1", "supplier2", "supplier3")
# (supplier, the number they asked to be paid on instead)
CHANGE_REQUEST = ("supplier2", "254733999002")


def _supplier(mailbox: str) -> SupplierProfile:
    return db.session.scalar(
        select(SupplierProfile)
        .join(User, User.id == SupplierProfile.user_id)
        .where(User.email == f"{mailbox}@{DOMAIN}")
    )


def seed() -> str:
    accepted = 0
    for mailbox in SUPPLIERS:
        supplier = _supplier(mailbox)
        if not accepted_current_terms(supplier):
            supplier.terms_version = current_terms_version()
            supplier.terms_accepted_at, supplier.terms_accepted_ip = utcnow(), "127.0.0.1"
            accepted += 1
    db.session.flush()
    mailbox, number = CHANGE_REQUEST
    payee = payout_numbers.supplier_payee(_supplier(mailbox).id, lock=True)
    pending = payout_numbers.pending_request(payee)
    if pending is None and payee.profile.mpesa_payout_number != number:
        payout_numbers.request_change(payee, number)
    return (
        f"{len(SUPPLIERS)} suppliers on terms {current_terms_version()} ({accepted} newly "
        f"accepted), a pending payout number change for {mailbox}"
    )
