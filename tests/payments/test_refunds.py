"""Refunds: the status table, the receiver of ``order_cancelled``, keys and limits."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.errors import InvalidTransition
from app.extensions import db
from app.orders.operations import cancel_order
from app.payments.models import Refund, RefundStatus
from app.payments.refunds import change_refund_status, record_refund_due
from app.signals import order_cancelled
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory


def refunds() -> list[Refund]:
    return list(db.session.scalars(select(Refund).order_by(Refund.id)))


@pytest.fixture
def paid(customer):
    order = OrderFactory(customer=customer, paid=True)
    PaymentFactory(order=order, completed=True, amount=order.total)
    return order


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ((RefundStatus.PROCESSING, RefundStatus.COMPLETED), True),
        ((RefundStatus.FAILED,), True),
        ((RefundStatus.COMPLETED, RefundStatus.PROCESSING), False),
        ((RefundStatus.FAILED, RefundStatus.COMPLETED), False),
        ((RefundStatus.PROCESSING, RefundStatus.PROCESSING), False),
    ],
)
def test_refund_status_moves_only_along_the_table(paid, path, allowed):
    refund = record_refund_due(paid, reason="Cancelled")
    *first, last = path
    for status in first:
        change_refund_status(refund, status)
    if allowed:
        change_refund_status(refund, last)
        assert refund.status == last
        assert (refund.completed_at is not None) == (last == RefundStatus.COMPLETED)
    else:
        with pytest.raises(InvalidTransition):
            change_refund_status(refund, last)


def test_order_cancelled_of_a_paid_order_records_one_refund_due(paid):
    order_cancelled.send(paid, actor_id=None, reason="Out of stock", was_paid=True)
    order_cancelled.send(paid, actor_id=None, reason="Out of stock", was_paid=True)
    assert [(r.cause, r.reason, r.status) for r in refunds()] == [
        ("ORDER_CANCELLED", "Out of stock", RefundStatus.PENDING)
    ]


def test_order_cancelled_of_an_unpaid_order_records_nothing(paid):
    order_cancelled.send(paid, actor_id=None, reason="Changed my mind", was_paid=False)
    assert refunds() == []


def test_cancel_order_and_its_signal_together_record_a_single_refund(paid):
    """Until cancel_order's direct call gives way to the receiver, both may run."""
    cancel_order(paid, actor_id=None, reason="Customer cancelled")
    order_cancelled.send(paid, actor_id=None, reason="Customer cancelled", was_paid=True)
    db.session.commit()
    assert db.session.scalar(select(func.count(Refund.id))) == 1
