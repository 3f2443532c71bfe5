"""The release job (hold -> available, batched, re-runnable) and ``flask ledger check``."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select, text

from app.db import utcnow
from app.extensions import db
from app.ledger.jobs import release_earnings
from app.ledger.models import AccountCode as A
from app.ledger.models import LedgerEntry
from app.ledger.operations import balance, reverse, supplier_balances
from app.orders.models import OrderStatus
from app.scheduler import find_job
from app.signals import order_delivered
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory

D = Decimal


def delivered_order(customer, *, days_ago: int, products: int = 1):
    items = [
        (ProductFactory(price=D("1000.00"), commission_rate=D("0.1000")), 1)
        for _ in range(products)
    ]
    order = OrderFactory(items=items, customer=customer, paid=True)
    order.status, order.delivered_at = OrderStatus.DELIVERED, utcnow() - timedelta(days=days_ago)
    order_delivered.send(order, actor_id=None)
    db.session.commit()
    return order


def test_earnings_are_released_after_the_hold_once(customer, assert_books_balance):
    due = delivered_order(customer, days_ago=8)
    waiting = delivered_order(customer, days_ago=3)
    supplier_id, waiting_supplier = due.items[0].supplier_id, waiting.items[0].supplier_id

    assert release_earnings() == 1
    db.session.commit()
    assert release_earnings() == 0  # run again: nothing twice

    assert supplier_balances(supplier_id).available == D("900.00")
    assert supplier_balances(supplier_id).on_hold == 0
    assert supplier_balances(waiting_supplier).on_hold == D("900.00")
    assert db.session.scalar(
        select(LedgerEntry.id).where(LedgerEntry.event_key == f"hold-released:{due.items[0].id}")
    )
    # Four days later (time passed to the job) the second hold ends too.
    assert release_earnings(now=utcnow() + timedelta(days=4, minutes=1)) == 1
    db.session.commit()
    assert supplier_balances(waiting_supplier).available == D("900.00")
    assert balance(A.SUPPLIER_ON_HOLD, supplier_id) == 0
    assert_books_balance()


def test_a_hold_reversed_before_its_release_releases_nothing(customer, assert_books_balance):
    order = delivered_order(customer, days_ago=8)
    reverse(f"item-delivered:{order.items[0].id}", memo="delivered by mistake")
    db.session.commit()

    assert release_earnings() == 0  # an undone delivery holds nothing: nothing to move
    db.session.commit()
    assert supplier_balances(order.items[0].supplier_id).available == 0
    assert supplier_balances(order.items[0].supplier_id).on_hold == 0
    assert_books_balance()


def test_the_release_runs_a_few_statements_per_batch_not_per_item(customer, db):
    def statements_to_release(items: int) -> int:
        for _ in range(items):
            delivered_order(customer, days_ago=10)
        statements = []

        def record(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert release_earnings(batch_size=100) == items
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        db.session.commit()
        return len(statements)

    assert statements_to_release(2) == statements_to_release(12)


@pytest.mark.postgres
def test_two_workers_releasing_at_once_release_each_item_once(app, customer):
    orders = [delivered_order(customer, days_ago=9) for _ in range(6)]
    start = threading.Barrier(2)
    released: list[int] = []

    def worker():
        with app.app_context():
            start.wait()
            released.append(release_earnings(batch_size=4))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(released) == 6
    for order in orders:
        assert supplier_balances(order.items[0].supplier_id).available == D("900.00")


def test_release_is_a_scheduled_hourly_job():
    job = find_job("release_earnings")
    assert job.interval_seconds == 3600 and job.load() is release_earnings


def test_flask_ledger_check_passes_on_consistent_books_and_fails_on_a_stray_line(app, customer):
    delivered_order(customer, days_ago=1, products=2)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert "ledger check passed" in result.output
    assert "3 entries, 8 lines" in result.output

    entry_id = db.session.scalar(
        select(func.min(LedgerEntry.id)).where(LedgerEntry.kind == "item-delivered")
    )
    key = db.session.scalar(select(LedgerEntry.event_key).where(LedgerEntry.id == entry_id))
    db.session.execute(
        text(
            "INSERT INTO ledger_lines (entry_id, account_id, amount) "
            "SELECT :entry, account_id, 0.01 FROM ledger_lines WHERE entry_id = :entry LIMIT 1"
        ),
        {"entry": entry_id},
    )
    db.session.commit()

    result = runner.invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert f"entry {key} (id {entry_id}) does not balance: its lines sum to 0.01" in result.output
