"""Unpaid orders expire: the M-Pesa/card orders not paid in time are cancelled.

It lives with payments because it must know the order's payment attempts; orders never
import payments.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import exists, select

from app.db import utcnow
from app.extensions import db
from app.orders.models import Order, OrderStatus, PaymentMethod, PaymentStatus
from app.orders.operations import cancel_order
from app.orders.state import lock_order
from app.payments.models import Payment

log = logging.getLogger(__name__)

BATCH_SIZE = 200
# An M-Pesa STK push or card charge started shortly before the deadline may still be
# settling (the payments domain queries pending STK pushes after two minutes), so an
# order with a PENDING payment younger than this is left for a later run.
PENDING_PAYMENT_GRACE = timedelta(minutes=10)


def _awaiting_settlement(order: Order, now) -> bool:
    """A completed payment (the order is about to be marked paid) or a young pending one."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Payment.order_id == order.id,
                    (Payment.status == PaymentStatus.COMPLETED)
                    | (
                        (Payment.status == PaymentStatus.PENDING)
                        & (Payment.created_at > now - PENDING_PAYMENT_GRACE)
                    ),
                )
            )
        )
    )


def expire_unpaid_orders() -> int:
    """Cancel M-Pesa/card orders still unpaid after their ``payment_due_at``.

    Their stock goes back on the shelf, so abandoned checkouts never hold it. Each order
    is re-read under its row lock and committed on its own: a payment completing at the
    same moment either lands first (the order is no longer PENDING and is skipped) or
    waits for the cancellation and then finds a cancelled order (the payments domain
    refunds it). Returns how many orders were cancelled.
    """
    now = utcnow()
    due = list(
        db.session.scalars(
            select(Order.id)
            .where(
                Order.status == OrderStatus.PENDING,
                Order.payment_method.in_((PaymentMethod.MPESA, PaymentMethod.CARD)),
                Order.payment_due_at < now,
            )
            .order_by(Order.payment_due_at)
            .limit(BATCH_SIZE)
        )
    )
    cancelled = 0
    for order_id in due:
        order = lock_order(order_id)
        if (
            order.status != OrderStatus.PENDING
            or order.payment_status == PaymentStatus.COMPLETED
            or _awaiting_settlement(order, now)
        ):
            db.session.rollback()  # release the lock; a later run looks again
            continue
        minutes = order.payment_due_at - order.created_at
        cancel_order(
            order,
            actor_id=None,
            reason=f"Payment not received within {int(minutes.total_seconds() // 60)} minutes",
        )
        db.session.commit()
        cancelled += 1
    if cancelled:
        log.info("expired %d unpaid orders", cancelled)
    return cancelled
