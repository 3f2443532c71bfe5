"""The emails a payment's outcome sends (receivers of ``app/signals.py``)."""

from __future__ import annotations

from app.money import format_money
from app.notifications.email import send_email_after_commit
from app.payments.models import Outcome, Payment
from app.signals import payment_settled


@payment_settled.connect
def email_payment_received(
    payment: Payment, *, outcome: str, paid_order: bool, **_: object
) -> None:
    """The customer hears once that their order is paid (not of money owed back)."""
    if outcome != Outcome.COMPLETED or not paid_order:
        return
    order = payment.order
    send_email_after_commit(
        order.customer.email,
        f"Payment received for order {order.order_number}",
        "payment_confirmation",
        order=order,
        payment=payment,
        customer=order.customer,
        amount=format_money(payment.amount_received or payment.amount),
    )
