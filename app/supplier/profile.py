"""What a supplier sees of their own account: business details, payout number (and its
pending change), commission rate and terms status."""

from __future__ import annotations

from typing import Any

from app.auth.models import SupplierProfile
from app.ledger.models import Party
from app.payout_numbers.operations import Payee, pending_request
from app.supplier.terms import supplier_commission_rate, terms_status


def profile(supplier: SupplierProfile) -> dict[str, Any]:
    user = supplier.user
    return {
        "id": supplier.id,
        "business_name": supplier.business_name,
        "business_registration_number": supplier.business_registration_number,
        "kra_pin": supplier.kra_pin,
        "business_address": supplier.business_address,
        "email": user.email,
        "phone": user.phone,
        "is_approved": supplier.is_approved,
        "approved_at": supplier.approved_at,
        "mpesa_payout_number": supplier.mpesa_payout_number,
        "pending_payout_number_change": pending_request(
            Payee(Party.SUPPLIER, supplier.id, supplier, user)
        ),
        "commission_rate": supplier_commission_rate(supplier),
        "terms": terms_status(supplier),
    }
