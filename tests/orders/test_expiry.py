from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from app.catalog.models import Product
from app.db import utcnow
from app.orders.models import Order, OrderStatus, PaymentStatus
from app.payments.expiry import PENDING_PAYMENT_GRACE, expire_unpaid_orders
from app.scheduler import find_job
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory


def reload(db, obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def payment(order, status, age):
    traits = {"completed": True} if status == PaymentStatus.COMPLETED else {}
    PaymentFactory(order=order, created_at=utcnow() - age, **traits)


def test_unpaid_mpesa_and_card_orders_expire_and_release_their_stock(db):
    product = ProductFactory(stock=0)
    mpesa = OrderFactory(expired=True, items=[(product, 2)])
    card = OrderFactory(expired=True, card=True, items=[(product, 1)])
    not_due = OrderFactory(items=[(product, 1)])
    cash = OrderFactory(cash=True, items=[(product, 1)])
    cash.payment_due_at = utcnow() - timedelta(hours=1)  # never expires, whatever it says
    paid = OrderFactory(paid=True, expired=True, items=[(product, 1)])
    db.session.commit()

    assert expire_unpaid_orders() == 2

    assert reload(db, mpesa).status == OrderStatus.CANCELLED
    assert reload(db, card).status == OrderStatus.CANCELLED
    assert reload(db, mpesa).cancellation_reason.startswith("Payment not received within")
    assert [reload(db, o).status for o in (not_due, cash, paid)] == [
        OrderStatus.PENDING,
        OrderStatus.PENDING,
        OrderStatus.PAID,
    ]
    assert reload(db, product).stock == 3
    assert expire_unpaid_orders() == 0  # stock is released once
    assert reload(db, product).stock == 3


def test_an_order_with_a_payment_settling_is_left_alone(db):
    settling = OrderFactory(expired=True, items=[(ProductFactory(), 1)])
    payment(settling, PaymentStatus.PENDING, age=timedelta(minutes=2))
    completed = OrderFactory(expired=True, items=[(ProductFactory(), 1)])
    payment(completed, PaymentStatus.COMPLETED, age=timedelta(minutes=40))
    abandoned = OrderFactory(expired=True, items=[(ProductFactory(), 1)])
    payment(abandoned, PaymentStatus.PENDING, age=PENDING_PAYMENT_GRACE * 2)

    assert expire_unpaid_orders() == 1

    statuses = {o.id: reload(db, o).status for o in (settling, completed, abandoned)}
    assert statuses == {
        settling.id: OrderStatus.PENDING,
        completed.id: OrderStatus.PENDING,
        abandoned.id: OrderStatus.CANCELLED,
    }


def test_checkout_sets_the_deadline_the_job_honours(app, checkout, fill_cart, db, monkeypatch):
    monkeypatch.setitem(app.config, "ORDER_PAYMENT_TIMEOUT_MINUTES", 0)
    product = ProductFactory(stock=4, price=Decimal("10.00"))
    fill_cart((product, 4))
    order_id = checkout("MPESA").json["data"]["id"]
    assert reload(db, product).stock == 0

    assert expire_unpaid_orders() == 1

    assert db.session.get(Order, order_id).status == OrderStatus.CANCELLED
    assert db.session.scalar(select(Product.stock).where(Product.id == product.id)) == 4


def test_the_job_runs_from_the_command_line(app):
    OrderFactory(expired=True, items=[(ProductFactory(), 1)])
    result = app.test_cli_runner().invoke(args=["jobs", "run", "expire_unpaid_orders"])
    assert result.exit_code == 0, result.output
    assert "SUCCEEDED 1" in result.output


def test_the_scheduler_runs_the_payments_expiry():
    assert find_job("expire_unpaid_orders").load() is expire_unpaid_orders
