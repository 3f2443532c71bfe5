"""Posting: balanced entries only, once per event key, never changed; balances are sums."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import LedgerEntry, LedgerLine
from app.ledger.operations import (
    Line,
    UnbalancedEntry,
    balance,
    post,
    reverse,
    supplier_balances,
)
from tests.factories.auth import SupplierProfileFactory


def entries() -> int:
    return db.session.scalar(select(func.count(LedgerEntry.id)))


def capture(key="order-paid:1", amount="1500.00") -> bool:
    amount = Decimal(amount)
    return post(key, "order-paid", [Line(A.MPESA_CLEARING, amount), Line(A.ORDERS_HELD, -amount)])


def test_a_balanced_entry_posts_once_and_balances_are_sums(assert_books_balance):
    assert capture() is True
    assert capture() is False  # the same event again: nothing written
    db.session.commit()
    assert capture("order-paid:2", "250.50") is True
    db.session.commit()

    assert entries() == 2
    assert balance(A.MPESA_CLEARING) == Decimal("1750.50")
    assert balance(A.ORDERS_HELD) == Decimal("-1750.50")
    report = assert_books_balance()
    assert (report.money_in, report.held) == (Decimal("1750.50"), Decimal("1750.50"))


@pytest.mark.parametrize(
    "lines",
    [
        [Line(A.MPESA_CLEARING, Decimal("100.00")), Line(A.ORDERS_HELD, Decimal("-99.99"))],
        [Line(A.MPESA_CLEARING, Decimal("100.00"))],
        [Line(A.MPESA_CLEARING, Decimal("0.005")), Line(A.ORDERS_HELD, Decimal("-0.005"))],
    ],
    ids=["off-by-a-cent", "one-sided", "sub-cent"],
)
def test_an_unbalanced_entry_is_refused_and_nothing_is_written(lines):
    with pytest.raises(UnbalancedEntry):
        post("order-paid:1", "order-paid", lines)
    assert entries() == 0


def test_supplier_accounts_need_a_supplier_and_platform_accounts_refuse_one():
    with pytest.raises(ValueError, match="per supplier"):
        post("x:1", "x", [Line(A.SUPPLIER_ON_HOLD, Decimal("1")), Line(A.ORDERS_HELD, -1)])
    with pytest.raises(ValueError, match="not per supplier"):
        post("x:1", "x", [Line(A.ORDERS_HELD, Decimal("1"), 5), Line(A.MPESA_CLEARING, -1)])


def test_entries_are_never_changed_and_a_correction_reverses(assert_books_balance):
    capture()
    db.session.commit()
    line = db.session.scalar(select(LedgerLine).limit(1))
    line.amount = Decimal("1.00")
    with pytest.raises(TypeError, match="never changed"):
        db.session.flush()
    db.session.rollback()

    assert reverse("order-paid:1", memo="captured twice by mistake") is True
    assert reverse("order-paid:1", memo="again") is False
    db.session.commit()
    assert entries() == 2
    assert balance(A.MPESA_CLEARING) == balance(A.ORDERS_HELD) == 0
    mirror = db.session.scalar(
        select(LedgerEntry).where(LedgerEntry.event_key == "reversal:order-paid:1")
    )
    assert mirror.kind == "reversal" and mirror.memo == "captured twice by mistake"
    assert sorted(line.amount for line in mirror.lines) == [Decimal("-1500.00"), 1500]
    assert_books_balance()


def test_supplier_balances_read_the_suppliers_accounts():
    supplier, other = SupplierProfileFactory(), SupplierProfileFactory()
    for index, (who, code, amount) in enumerate(
        [
            (supplier, A.SUPPLIER_ON_HOLD, "900.00"),
            (supplier, A.SUPPLIER_AVAILABLE, "120.55"),
            (supplier, A.SUPPLIER_IN_FLIGHT, "10.00"),
            (other, A.SUPPLIER_AVAILABLE, "5000.00"),
        ]
    ):
        amount = Decimal(amount)
        post(f"t:{index}", "t", [Line(A.ORDERS_HELD, amount), Line(code, -amount, who.id)])
    db.session.commit()

    balances = supplier_balances(supplier.id)
    assert (balances.on_hold, balances.available, balances.in_flight) == (
        Decimal("900.00"),
        Decimal("120.55"),
        Decimal("10.00"),
    )
    assert balances.paid_out_total == 0
    assert supplier_balances(SupplierProfileFactory().id).available == 0


@pytest.mark.postgres
def test_concurrent_posts_of_one_event_key_write_one_entry(app):
    workers = 8
    start = threading.Barrier(workers)
    results: list[bool] = []

    def worker():
        with app.app_context():
            start.wait()
            results.append(capture())
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == [False] * (workers - 1) + [True]
    assert entries() == 1
    assert balance(A.MPESA_CLEARING) == Decimal("1500.00")
