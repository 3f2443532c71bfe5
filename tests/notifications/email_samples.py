"""Sample context for every email template (``app/templates/email/<name>.txt|html``).

``test_email_templates`` renders every template it finds in that folder with the sample
registered here under its name, with undefined variables as errors: a template added
without an entry here, or using a variable its sample lacks, fails the suite. Add one
entry per new template: a function returning what its sender passes as context.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace as Obj
from typing import Any


def _user(role: str = "CUSTOMER") -> Obj:
    return Obj(
        id=7, first_name="Wanjiru", last_name="Kamau", email="wanjiru@example.co.ke", role=role
    )


def _order(status: str = "SHIPPED", payment_method: str = "MPESA") -> Obj:
    items = [
        Obj(
            quantity=1,
            product_name="Samsung Galaxy A15",
            unit_price=Decimal("21499.00"),
            line_total=Decimal("21499.00"),
        ),
        Obj(
            quantity=2,
            product_name="Oraimo FreePods",
            unit_price=Decimal("2500.00"),
            line_total=Decimal("5000.00"),
        ),
    ]
    return Obj(
        id=12,
        order_number="QG-20261202-0012",
        status=status,
        payment_status="COMPLETED",
        payment_method=payment_method,
        items=items,
        subtotal=Decimal("26499.00"),
        delivery_fee=Decimal("300.00"),
        total=Decimal("26799.00"),
        payment_due_at=datetime(2026, 12, 2, 14, 30, tzinfo=UTC),
        recipient_name="Wanjiru Kamau",
        delivery_street="Moi Avenue 12",
        delivery_landmark="Opposite the bank",
        delivery_town="Nairobi",
        delivery_county="Nairobi",
        estimated_delivery_days=2,
    )


def _contact() -> Obj:
    return Obj(
        id=3,
        name="Otieno",
        email="otieno@example.co.ke",
        phone="254712345678",
        subject="Where is my order?",
        message="It has been two days.",
        order_number="QG-20261202-0012",
    )


def _code_and_link(**extra) -> dict[str, Any]:
    return {
        "user": _user(),
        "code": "123456",
        "minutes": 15,
        "link": "http://localhost:5173/verify-email?token=abc",
    } | extra


SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "welcome": lambda: {"user": _user("SUPPLIER")},
    "verify_email": _code_and_link,
    "password_reset": _code_and_link,
    "otp": lambda: {
        "user": _user(),
        "code": "654321",
        "minutes": 10,
        "purpose": "reset your password",
    },
    "password_changed": lambda: {"user": _user()},
    "order_confirmation": lambda: {"order": _order("PENDING"), "customer": _user()},
    "order_status": lambda: {
        "order": _order("CANCELLED"),
        "customer": _user(),
        "note": "Out of stock",
    },
    "payment_confirmation": lambda: {
        "order": _order("PAID"),
        "customer": _user(),
        "amount": "26799.00",
        "payment": Obj(
            currency="KES", method="MPESA", receipt="SLK4H7T9QZ", reference="ws_CO_0212202614300012"
        ),
    },
    "contact_acknowledgement": lambda: {
        "contact": _contact(),
        "support_email": "support@quantumgear.co.ke",
    },
    "contact_message": lambda: {"contact": _contact()},
    "delivery_code": lambda: {
        "order": _order("OUT_FOR_DELIVERY"),
        "customer": _user(),
        "code": "482913",
    },
    "supplier_decision": lambda: {
        "user": _user("SUPPLIER"),
        "status": "SUSPENDED",
        "profile": Obj(business_name="Nairobi Gadgets Ltd"),
        "reason": "Repeated counterfeit listings",
    },
    "payout_sent": lambda: _payout("PROCESSING"),
    "payout_completed": lambda: _payout("COMPLETED"),
    "payout_failed": lambda: _payout("FAILED"),
    "payout_number": lambda: {
        "user": _user("SUPPLIER"),
        "step": "requested",
        "message": "You asked to receive payouts on 2547****5678; an admin will review it.",
    },
    "return_update": lambda: {
        "recipient": _user(),
        "message": "Your return was approved; the refund is on its way.",
        "ret": Obj(
            id=4,
            return_number="RT-20261202-0004",
            type="RETURN",
            status="APPROVED",
            refund_amount=Decimal("2500.00"),
        ),
        "order": _order("DELIVERED"),
        "note": "Item received in good condition",
    },
}


def _payout(status: str) -> dict[str, Any]:
    return {
        "user": _user("SUPPLIER"),
        "amount": "12450.00",
        "payouts_path": "/supplier/payouts",
        "payout": Obj(
            id=9,
            status=status,
            phone="254712345678",
            receipt="SLK4H7T9QZ" if status == "COMPLETED" else None,
            reference=None,
            method="MPESA",
            failure_reason="The recipient is not a registered M-Pesa customer",
        ),
    }
