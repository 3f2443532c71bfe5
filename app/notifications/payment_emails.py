"""What a payment's outcome tells the customer, in the app and by email (receivers of
``app/signals.py``)."""

from __future__ import annotations

from app.money import format_money
from app.notifications.operations import notify
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
    subject = f"Payment received for order {order.order_number}"
    amount = format_money(payment.captured)
    notify(
        order.customer,
        "payment-received",
        title=subject,
        body=f"We received your payment of {payment.currency} {amount}.",
        path=f"/orders/{order.id}",
        order=order,
        email=(subject, "payment_confirmation"),
        payment=payment,
        customer=order.customer,
        amount=amount,
    )
