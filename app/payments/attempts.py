"""Payment attempts: who may see them, starting an STK push or a card checkout, cash.

Starting an attempt locks the order, checks it can be paid, writes the attempt and only
then calls the provider. Functions flush and never commit; the view or job commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import attributes

from app.auth.models import ADMIN_ROLES, User
from app.common.audit import record_audit
from app.db import lock_row, utcnow
from app.errors import Conflict, NotFound, Unprocessable
from app.extensions import db
from app.money import format_money, whole_shillings
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.orders.state import change_payment_status, lock_order
from app.payments.models import Outcome, Payment, PaymentProvider
from app.services import mpesa_gateway, paystack_gateway
from app.settings import setting
from app.signals import payment_settled

# A second STK push to the same customer within a minute is refused by M-Pesa
# ("Unable to lock subscriber"), so we refuse it first.
MPESA_RETRY_AFTER_SECONDS = 60
P = PaymentStatus


@dataclass(frozen=True)
class PaymentSummary:
    order: Order
    payments: list[Payment]


# -- loading and checks ---------------------------------------------------------------


def order_for(user: User, order_id: int) -> Order:
    """The order if ``user`` owns it (admins see every order); otherwise 404."""
    order = db.session.get(Order, order_id)
    if order is None or (order.customer_id != user.id and user.role not in ADMIN_ROLES):
        raise NotFound("Order not found")
    return order


def payment_for(user: User, **criteria) -> Payment:
    payment = db.session.scalar(select(Payment).filter_by(**criteria))
    if payment is None:
        raise NotFound("Payment not found")
    order_for(user, payment.order_id)
    return payment


def ensure_payable(order: Order) -> None:
    if order.payment_method == PaymentMethod.CASH:
        raise Conflict(
            "This order is paid in cash on delivery", code="CASH_ORDER", details=_state(order)
        )
    if order.payment_status == P.COMPLETED or order.status == OrderStatus.PAID:
        raise Conflict("This order is already paid", code="ALREADY_PAID", details=_state(order))
    if order.status != OrderStatus.PENDING:
        raise Conflict(
            f"An order that is {order.status} cannot be paid",
            code="ORDER_NOT_PAYABLE",
            details=_state(order),
        )
    if order.payment_due_at is not None and order.payment_due_at < utcnow():
        raise Conflict(
            "The time to pay for this order has run out",
            code="ORDER_NOT_PAYABLE",
            details=_state(order),
        )


def _state(order: Order) -> dict[str, str]:
    return {
        "status": str(order.status),
        "payment_status": str(order.payment_status),
        "payment_method": str(order.payment_method),
    }


def _new_reference(prefix: str, order: Order) -> str:
    """Unique per attempt; letters, digits and ``-`` only (Paystack's reference rules)."""
    return f"{prefix}-{order.id}-{secrets.token_hex(5).upper()}"


def lock_payment(payment_id: int) -> Payment:
    return lock_row(Payment, payment_id)


def move_payment(payment: Payment, new: PaymentStatus, allowed: tuple[PaymentStatus, ...]) -> bool:
    """Compare-and-set on the row: under any concurrency only one caller wins."""
    moved = db.session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(allowed))
        .values(status=new, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved == 1:
        attributes.set_committed_value(payment, "status", new)
    return moved == 1


def payments_of(order: Order) -> list[Payment]:
    return list(
        db.session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id))
    )


def sync_order_payment_status(order: Order, note: str) -> None:
    """While unpaid, the order's payment status follows its attempts."""
    if order.status != OrderStatus.PENDING or order.payment_status in (P.COMPLETED, P.REFUNDED):
        return
    statuses = {payment.status for payment in payments_of(order)}
    target = P.PENDING if P.PENDING in statuses or not statuses else P.FAILED
    if target != order.payment_status:
        change_payment_status(order, target, note=note)


# -- starting attempts ------------------------------------------------------------------


def start_mpesa_payment(order: Order, phone: str) -> Payment:
    """Send an STK Push for the order's total, rounded up to whole shillings."""
    order = lock_order(order.id)
    ensure_payable(order)
    recent = db.session.scalar(
        select(Payment).where(
            Payment.order_id == order.id,
            Payment.provider == PaymentProvider.MPESA,
            Payment.status == P.PENDING,
            Payment.created_at > utcnow() - timedelta(seconds=MPESA_RETRY_AFTER_SECONDS),
        )
    )
    if recent is not None:
        raise Conflict(
            "An M-Pesa prompt was sent moments ago; complete it or wait a minute",
            code="PAYMENT_IN_PROGRESS",
            details={"checkout_request_id": recent.checkout_request_id},
        )
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.MPESA,
        provider=PaymentProvider.MPESA,
        amount=Decimal(whole_shillings(order.total)),
        currency=order.currency,
        reference=_new_reference("MP", order),
        payer_phone=phone,
    )
    db.session.add(payment)
    db.session.flush()  # our row exists before Daraja is called
    push = mpesa_gateway().stk_push(
        phone=phone, amount=payment.amount, reference=order.order_number, description="Quantum Gear"
    )
    payment.checkout_request_id = push.checkout_request_id
    payment.merchant_request_id = push.merchant_request_id or None
    payment.provider_response = {"stk_push": push.raw}
    sync_order_payment_status(order, note="M-Pesa payment started")
    db.session.flush()
    return payment


def start_card_payment(order: Order) -> Payment:
    """Open a Paystack checkout for the order's total (in cents)."""
    order = lock_order(order.id)
    ensure_payable(order)
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.CARD,
        provider=PaymentProvider.PAYSTACK,
        amount=order.total,
        currency=order.currency,
        reference=_new_reference("QG", order),
        payer_email=order.customer.email,
    )
    db.session.add(payment)
    db.session.flush()
    callback_url = f"{current_app.config['FRONTEND_URL']}/orders/{order.id}/payment-return"
    checkout = paystack_gateway().initialize(
        email=order.customer.email,
        amount=payment.amount,
        currency=payment.currency,
        reference=payment.reference,
        callback_url=callback_url,
        metadata={"order_id": order.id, "order_number": order.order_number},
    )
    payment.provider_response = {
        "initialize": checkout.raw,
        "callback_url": callback_url,
        "authorization_url": checkout.authorization_url,
        "access_code": checkout.access_code,
    }
    sync_order_payment_status(order, note="Card payment started")
    db.session.flush()
    return payment


def confirm_cash_payment(order: Order, amount: Decimal, *, actor_id: int) -> Payment:
    """Record the cash collected for a cash-on-delivery order; twice changes nothing."""
    order = lock_order(order.id)
    if order.payment_method != PaymentMethod.CASH:
        raise Conflict(
            "Only cash on delivery orders are confirmed here",
            code="NOT_A_CASH_ORDER",
            details=_state(order),
        )
    existing = db.session.scalar(
        select(Payment).where(
            Payment.order_id == order.id,
            Payment.provider == PaymentProvider.CASH,
            Payment.status == P.COMPLETED,
        )
    )
    if existing is not None:
        return existing
    if order.status == OrderStatus.CANCELLED:
        raise Conflict("This order was cancelled", code="ORDER_NOT_PAYABLE", details=_state(order))
    if amount != order.total:
        raise Unprocessable(
            "The cash received must equal the order total",
            code="AMOUNT_MISMATCH",
            details={"expected": format_money(order.total), "received": format_money(amount)},
        )
    now = utcnow()
    payment = Payment(
        order_id=order.id,
        method=PaymentMethod.CASH,
        provider=PaymentProvider.CASH,
        amount=order.total,
        amount_received=amount,
        currency=order.currency,
        status=P.COMPLETED,
        reference=f"CASH-{order.order_number}",
        completed_at=now,
        recorded_by_id=actor_id,
    )
    db.session.add(payment)
    db.session.flush()
    order.paid_at = now  # before the change that sends order_paid
    change_payment_status(order, P.COMPLETED, actor_id=actor_id, note="Cash received")
    record_audit(
        "payment.cash_confirmed",
        payment,
        actor_id=actor_id,
        details={"amount": format_money(amount)},
    )
    payment_settled.send(payment, outcome=Outcome.COMPLETED, paid_order=True)
    return payment


# -- summaries ----------------------------------------------------------------------------


def latest_mpesa_payment(order: Order) -> Payment:
    payment = db.session.scalar(
        select(Payment)
        .where(Payment.order_id == order.id, Payment.provider == PaymentProvider.MPESA)
        .order_by(Payment.id.desc())
        .limit(1)
    )
    if payment is None:
        raise NotFound("This order has no M-Pesa payment")
    return payment


def payment_summary(order: Order) -> PaymentSummary:
    return PaymentSummary(order=order, payments=payments_of(order))


def payment_methods() -> list[dict[str, Any]]:
    return [
        {
            "code": PaymentMethod.MPESA,
            "name": "M-Pesa",
            "description": "Pay from your phone with an M-Pesa STK Push prompt",
            "enabled": mpesa_gateway().configured,
            "simulated": mpesa_gateway().simulated,
        },
        {
            "code": PaymentMethod.CARD,
            "name": "Card",
            "description": "Visa or Mastercard through Paystack",
            "enabled": paystack_gateway().configured,
            "simulated": paystack_gateway().simulated,
        },
        {
            "code": PaymentMethod.CASH,
            "name": "Cash on delivery",
            "description": "Pay the delivery agent when your order arrives",
            "enabled": True,
            "simulated": False,
            "max_total": Decimal(setting("cod_max_total")),
        },
    ]
