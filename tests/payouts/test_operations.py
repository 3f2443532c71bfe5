"""Payout rules, directly: one payout through the engine, its postings, its checks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.errors import ApiError
from app.extensions import db
from app.ledger.operations import supplier_balances
from app.payouts import operations as payouts
from app.payouts.models import Payout, PayoutStatus
from tests.factories.payouts import earn, paying_supplier


def test_a_payout_through_the_simulator_completes(admin, assert_books_balance):
    supplier = paying_supplier()
    earn(supplier.id, "1500.75")
    payout = payouts.pay_supplier(supplier.id, None, actor_id=admin.id)
    payout = payouts.dispatch(payout)
    db.session.expire_all()
    payout = db.session.get(Payout, payout.id)
    assert payout.status == PayoutStatus.COMPLETED and payout.receipt
    assert payout.amount == Decimal("1500")
    balances = supplier_balances(supplier.id)
    assert (balances.available, balances.in_flight, balances.paid_out_total) == (
        Decimal("0.75"),
        Decimal("0.00"),
        Decimal("1500.00"),
    )
    assert assert_books_balance().paid_out == Decimal("1500.00")


def test_a_failed_payout_gives_the_money_back(admin, assert_books_balance):
    supplier = paying_supplier(mpesa_payout_number="254700000010")
    earn(supplier.id, "500.00")
    payout = payouts.dispatch(payouts.pay_supplier(supplier.id, None, actor_id=admin.id))
    db.session.refresh(payout)
    assert payout.status == PayoutStatus.FAILED and "2040" in payout.failure_reason
    assert supplier_balances(supplier.id).available == Decimal("500.00")
    assert_books_balance()


@pytest.mark.parametrize(
    ("change", "amount", "code"),
    [
        ({"mpesa_payout_number": None}, None, "PAYOUT_NUMBER_MISSING"),
        ({"terms_version": "old"}, None, "TERMS_NOT_ACCEPTED"),
        ({}, "600", "INSUFFICIENT_BALANCE"),
        ({}, "10.50", "VALIDATION_ERROR"),
        ({}, "9", "VALIDATION_ERROR"),
    ],
)
def test_what_cannot_be_paid(admin, change, amount, code):
    supplier = paying_supplier(**change)
    earn(supplier.id, "500.00")
    with pytest.raises(ApiError) as refused:
        payouts.pay_supplier(supplier.id, Decimal(amount) if amount else None, actor_id=admin.id)
    assert refused.value.code == code
    db.session.rollback()
    assert db.session.query(Payout).count() == 0


def test_the_supplier_hears_of_each_step(admin):
    from sqlalchemy import select

    from app.notifications.models import Notification, OutboxEmail

    supplier = paying_supplier()
    earn(supplier.id, "500.00")
    payout = payouts.dispatch(payouts.pay_supplier(supplier.id, None, actor_id=admin.id))
    events = db.session.scalars(
        select(Notification.event)
        .where(Notification.user_id == supplier.user_id)
        .order_by(Notification.id)
    ).all()
    assert events == ["payout-sent", "payout-completed"]
    email = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.subject == "Payout of KES 500.00 completed")
    )
    assert payout.receipt in email.body_text and "/supplier/payouts" in email.body_text
