"""The ledger's postings, by sending each domain event exactly as its sender does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.db import utcnow
from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import LedgerEntry, LedgerLine
from app.ledger.operations import balance, supplier_balances
from app.orders.models import OrderStatus, PaymentStatus
from app.payments.attempts import confirm_cash_payment
from app.payments.models import Payment, Refund, RefundCause, RefundStatus
from app.signals import order_cancelled, order_delivered, order_paid, refund_due, refund_settled
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory

D = Decimal


@pytest.fixture
def two_supplier_order(customer):
    """KES 3,999.49 + 2 x 1,250.25 + 250.00 delivery = 6,749.99, paid by M-Pesa (6,750)."""
    phone = ProductFactory(price=D("3999.49"), commission_rate=D("0.0750"))
    cables = ProductFactory(price=D("1250.25"), commission_rate=D("0.1250"))
    order = OrderFactory(items=[(phone, 1), (cables, 2)], customer=customer, paid=True)
    PaymentFactory(order=order, completed=True)
    return order


def pay(order, via="MPESA"):
    order_paid.send(order, actor_id=None, via=via)
    db.session.commit()


def deliver(order, *, at=None):
    order.status = OrderStatus.DELIVERED
    order.delivered_at = order.delivered_at or at or utcnow()
    order_delivered.send(order, actor_id=None)
    db.session.commit()


def settle(refund):
    refund.status, refund.completed_at = RefundStatus.COMPLETED, utcnow()
    refund_settled.send(refund)
    db.session.commit()


def refund_for(order, cause=RefundCause.ORDER_CANCELLED, payment=None):
    """The refund the payments domain recorded for the order, or a new one of ``cause``."""
    recorded = db.session.scalar(
        select(Refund).where(Refund.order_id == order.id, Refund.cause == cause)
    )
    if recorded is not None:
        return recorded
    payment = payment or db.session.scalar(select(Payment).where(Payment.order_id == order.id))
    refund = Refund(
        key=f"{cause}:{payment.id}",
        order_id=order.id,
        payment_id=payment.id,
        amount=payment.amount_received,
        cause=cause,
        reason="test",
    )
    db.session.add(refund)
    db.session.flush()
    return refund


def entry_count() -> int:
    return db.session.scalar(select(func.count(LedgerEntry.id)))


def test_an_mpesa_payment_moves_what_was_received_into_orders_held(
    two_supplier_order, assert_books_balance
):
    pay(two_supplier_order)
    pay(two_supplier_order)  # the event again: posted once

    assert entry_count() == 1
    assert balance(A.MPESA_CLEARING) == D("6750.00")  # whole shillings asked of M-Pesa
    assert balance(A.ORDERS_HELD) == D("-6750.00")
    assert_books_balance()


def test_delivery_puts_each_suppliers_net_on_hold_and_commission_to_revenue(
    two_supplier_order, assert_books_balance, app
):
    phone_item, cables_item = two_supplier_order.items
    pay(two_supplier_order)
    deliver(two_supplier_order)
    deliver(two_supplier_order)  # replayed: nothing more

    # 3,999.49 x 7.5% = 299.96175 -> 299.96; 2,500.50 x 12.5% = 312.5625 -> 312.56
    assert (phone_item.commission_amount, cables_item.commission_amount) == (
        D("299.96"),
        D("312.56"),
    )
    assert supplier_balances(phone_item.supplier_id).on_hold == D("3699.53")
    assert supplier_balances(cables_item.supplier_id).on_hold == D("2187.94")
    assert supplier_balances(phone_item.supplier_id).available == 0
    assert balance(A.COMMISSION_REVENUE) == D("-612.52")
    assert balance(A.DELIVERY_REVENUE) == D("-250.00")
    assert balance(A.ROUNDING_REVENUE) == D("-0.01")  # paid 6,750.00 for 6,749.99
    assert balance(A.ORDERS_HELD) == 0
    assert entry_count() == 1 + 2 + 1

    hold = db.session.scalar(
        select(LedgerLine)
        .where(LedgerLine.order_item_id == phone_item.id, LedgerLine.amount < 0)
        .where(LedgerLine.release_at.is_not(None))
    )
    assert app.config["EARNINGS_HOLD_DAYS"] == app.config["RETURN_WINDOW_DAYS"] == 7
    assert hold.release_at == two_supplier_order.delivered_at + timedelta(days=7)
    report = assert_books_balance()
    assert report.money_in == D("6750.00") == report.revenue + report.owed


def test_a_cash_order_delivered_then_paid_ends_in_cash_collected(
    customer, admin, assert_books_balance
):
    order = OrderFactory(
        items=[(ProductFactory(price=D("1250.00")), 1)], customer=customer, cash=True
    )
    deliver(order)
    assert balance(A.ORDERS_HELD) == D("1500.00")  # delivered before its cash came in
    assert_books_balance()

    confirm_cash_payment(order, D("1500.00"), actor_id=admin.id)
    pay(order, via="CASH")

    assert balance(A.CASH_COLLECTED) == D("1500.00")
    assert balance(A.ORDERS_HELD) == 0
    assert balance(A.ROUNDING_REVENUE) == 0
    assert_books_balance()


def test_a_cancelled_paid_order_is_owed_back_until_the_refund_settles(
    two_supplier_order, assert_books_balance
):
    pay(two_supplier_order)
    two_supplier_order.status = OrderStatus.CANCELLED
    order_cancelled.send(two_supplier_order, actor_id=None, reason="Out of stock", was_paid=True)
    db.session.commit()

    assert balance(A.ORDERS_HELD) == 0
    assert balance(A.REFUNDS_OWED) == D("-6750.00")
    assert_books_balance()

    refund = refund_for(two_supplier_order)
    settle(refund)
    settle(refund)  # a second confirmation: posted once

    assert balance(A.REFUNDS_OWED) == balance(A.MPESA_CLEARING) == 0
    report = assert_books_balance()
    assert report.money_in == report.paid_out == D("6750.00")


def test_an_unpaid_cancelled_order_posts_nothing(two_supplier_order):
    order_cancelled.send(two_supplier_order, actor_id=None, reason="Changed mind", was_paid=False)
    db.session.commit()
    assert entry_count() == 0


def test_a_late_payment_is_owed_back_at_once(customer, assert_books_balance):
    order = OrderFactory(
        items=[(ProductFactory(price=D("999.50")), 1)],
        customer=customer,
        status=OrderStatus.CANCELLED,
        payment_status=PaymentStatus.COMPLETED,
    )
    payment = PaymentFactory(order=order, completed=True, flagged=True)
    pay(order)  # a sender announcing it for the cancelled order posts nothing
    refund = refund_for(order, RefundCause.LATE_PAYMENT, payment)
    refund_due.send(refund)
    db.session.commit()

    assert balance(A.MPESA_CLEARING) == D("1250.00")
    assert balance(A.REFUNDS_OWED) == D("-1250.00")
    assert balance(A.ORDERS_HELD) == 0
    settle(refund)
    assert balance(A.MPESA_CLEARING) == balance(A.REFUNDS_OWED) == 0
    assert_books_balance()


def test_a_card_refund_started_at_paystack_takes_the_orders_held_money(
    customer, assert_books_balance
):
    order = OrderFactory(
        items=[(ProductFactory(price=D("1000.00")), 1)], customer=customer, card=True, paid=True
    )
    payment = PaymentFactory(order=order, card=True, completed=True)
    pay(order, via="CARD")
    refund = refund_for(order, RefundCause.PROVIDER, payment)
    refund_due.send(refund)  # not owed before: nothing posted until Paystack settles it
    db.session.commit()
    assert balance(A.REFUNDS_OWED) == 0

    settle(refund)
    assert balance(A.PAYSTACK_CLEARING) == balance(A.ORDERS_HELD) == 0
    assert_books_balance()
