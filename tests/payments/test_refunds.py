"""Refunds: the status table, the receiver of ``order_cancelled``, keys and limits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.errors import InvalidTransition, Unprocessable
from app.extensions import db
from app.orders.operations import cancel_order
from app.payments.models import Refund, RefundStatus
from app.payments.refunds import change_refund_status, record_refund_due
from app.signals import order_cancelled
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory


def refunds() -> list[Refund]:
    return list(db.session.scalars(select(Refund).order_by(Refund.id)))


@pytest.fixture
def paid(customer):
    """A paid order of KES 1,499.50 and the payment that paid it."""
    order = OrderFactory(
        items=[(ProductFactory(price=Decimal("1249.50")), 1)], customer=customer, paid=True
    )
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


def test_one_payment_carries_refunds_with_different_keys(paid):
    first = record_refund_due(paid, reason="Return 1", key="return:1", amount=Decimal("100.00"))
    second = record_refund_due(paid, reason="Return 2", key="return:2", amount=Decimal("200.00"))
    db.session.commit()
    assert first.id != second.id and first.payment_id == second.payment_id
    assert [(r.key, r.amount) for r in refunds()] == [
        ("return:1", Decimal("100.00")),
        ("return:2", Decimal("200.00")),
    ]


def test_the_same_key_twice_is_one_refund(paid):
    first = record_refund_due(paid, reason="Return 1", key="return:1", amount=Decimal("100.00"))
    again = record_refund_due(paid, reason="Return 1", key="return:1", amount=Decimal("100.00"))
    db.session.commit()
    assert first.id == again.id
    assert len(refunds()) == 1


def test_refunds_never_exceed_what_the_payment_captured(paid):
    record_refund_due(paid, reason="Return 1", key="return:1", amount=paid.total - 1)
    with pytest.raises(Unprocessable) as refused:
        record_refund_due(paid, reason="Return 2", key="return:2", amount=Decimal("1.01"))
    assert refused.value.code == "REFUND_EXCEEDS_PAYMENT"
    assert [r.key for r in refunds()] == ["return:1"]


def test_a_failed_refund_frees_its_amount(paid):
    first = record_refund_due(paid, reason="Return 1", key="return:1")
    change_refund_status(first, RefundStatus.FAILED)
    again = record_refund_due(paid, reason="Return 1, again", key="return:1:retry")
    assert again.amount == paid.total
