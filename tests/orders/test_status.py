from decimal import Decimal

import pytest
from sqlalchemy import select

from app.auth.models import UserRole
from app.catalog.models import Product
from app.notifications.models import OutboxEmail
from app.orders.models import Order, OrderStatus, PaymentStatus
from app.orders.state import TRANSITIONS
from app.payments.models import Refund
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory


def put_status(client, headers, order, status, note=None):
    body = {"status": status} | ({"note": note} if note else {})
    return client.put(f"/api/orders/{order.id}/status", json=body, headers=headers)


def test_admin_walks_a_paid_order_to_delivered_with_history(client, admin_headers, admin, db):
    order = OrderFactory(paid=True, items=[(ProductFactory(), 1)])
    path = ["PROCESSING", "QUALITY_APPROVED", "SHIPPED", "OUT_FOR_DELIVERY", "ARRIVED"]
    for status in [*path, "DELIVERED"]:
        response = put_status(client, admin_headers, order, status, note=f"to {status}")
        assert response.status_code == 200, response.json
        assert response.json["data"]["status"] == status

    data = response.json["data"]
    assert data["delivered_at"] is not None
    history = [(h["from_status"], h["to_status"]) for h in data["history"]]
    assert history == list(zip(["PAID", *path], [*path, "DELIVERED"], strict=True))
    assert {h["changed_by_id"] for h in data["history"]} == {admin.id}
    assert data["history"][-1]["note"] == "to DELIVERED"
    subjects = db.session.scalars(select(OutboxEmail.subject)).all()
    assert any("Delivered" in subject for subject in subjects)


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (OrderStatus.PENDING, "SHIPPED"),
        (OrderStatus.PENDING, "PROCESSING"),  # an M-Pesa order must be paid first
        (OrderStatus.SHIPPED, "PROCESSING"),
        (OrderStatus.DELIVERED, "CANCELLED"),
        (OrderStatus.CANCELLED, "PROCESSING"),
    ],
)
def test_transitions_off_the_table_are_409(client, admin_headers, start, target):
    order = OrderFactory(status=start, items=[(ProductFactory(), 1)])
    response = put_status(client, admin_headers, order, target)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "INVALID_TRANSITION"


def test_paid_only_follows_a_payment(client, admin_headers):
    order = OrderFactory(items=[(ProductFactory(), 1)])
    response = put_status(client, admin_headers, order, "PAID")
    assert response.status_code == 409


def test_cash_orders_go_straight_to_processing(client, admin_headers):
    order = OrderFactory(cash=True, items=[(ProductFactory(), 1)])
    assert put_status(client, admin_headers, order, "PROCESSING").status_code == 200


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(OrderStatus)


def test_supplier_moves_only_their_own_orders_to_their_statuses(client, supplier, supplier_headers):
    mine = ProductFactory(supplier=supplier.supplier_profile)
    order = OrderFactory(paid=True, items=[(mine, 1)])

    assert put_status(client, supplier_headers, order, "PROCESSING").status_code == 200
    response = put_status(client, supplier_headers, order, "QUALITY_APPROVED")
    assert response.status_code == 200
    assert put_status(client, supplier_headers, order, "SHIPPED").status_code == 403

    mixed = OrderFactory(paid=True, items=[(mine, 1), (ProductFactory(), 1)])
    assert put_status(client, supplier_headers, mixed, "PROCESSING").status_code == 403
    foreign = OrderFactory(paid=True, items=[(ProductFactory(), 1)])
    assert put_status(client, supplier_headers, foreign, "PROCESSING").status_code == 404


def test_customers_cannot_set_status(client, customer, customer_headers):
    order = OrderFactory(customer=customer, paid=True)
    assert put_status(client, customer_headers, order, "PROCESSING").status_code == 403


def test_finance_admin_records_payment_and_a_pending_order_becomes_paid(
    client, role_user, auth_headers
):
    headers = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    order = OrderFactory(items=[(ProductFactory(), 1)])
    url = f"/api/orders/{order.id}/payment"

    response = client.put(
        url, json={"payment_status": "COMPLETED", "note": "M-Pesa QK1"}, headers=headers
    )

    data = response.json["data"]
    assert response.status_code == 200
    assert (data["payment_status"], data["status"]) == ("COMPLETED", "PAID")
    assert data["paid_at"] is not None
    assert [(h["field"], h["to_status"]) for h in data["history"]] == [
        ("payment_status", "COMPLETED"),
        ("status", "PAID"),
    ]
    again = client.put(url, json={"payment_status": "FAILED"}, headers=headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "INVALID_TRANSITION"
    bad = client.put(url, json={"payment_status": "LOST"}, headers=headers)
    assert bad.status_code == 400


def test_payment_status_is_for_finance_admins(client, role_user, auth_headers, admin_headers):
    order = OrderFactory()
    url = f"/api/orders/{order.id}/payment"
    support = auth_headers(role_user(UserRole.SUPPORT_ADMIN))
    assert client.put(url, json={"payment_status": "FAILED"}, headers=support).status_code == 403
    response = client.put(url, json={"payment_status": "FAILED"}, headers=admin_headers)
    assert response.status_code == 200
    assert (
        client.put(
            "/api/orders/999/payment", json={"payment_status": "FAILED"}, headers=admin_headers
        ).status_code
        == 404
    )


# Cancellation -----------------------------------------------------------------------
def stock_of(db, product):
    db.session.expire_all()
    return db.session.get(Product, product.id).stock


def test_customer_cancels_a_pending_order_stock_returns_once(
    client, customer, customer_headers, db
):
    product = ProductFactory(stock=2)
    order = OrderFactory(customer=customer, items=[(product, 3)])
    url = f"/api/orders/{order.id}/cancel"

    response = client.post(url, json={"reason": "Changed my mind"}, headers=customer_headers)

    data = response.json["data"]
    assert response.status_code == 200
    assert (data["status"], data["cancellation_reason"]) == ("CANCELLED", "Changed my mind")
    assert data["cancelled_at"] is not None
    assert stock_of(db, product) == 5
    again = client.post(url, json={}, headers=customer_headers)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "INVALID_TRANSITION"
    assert stock_of(db, product) == 5
    assert db.session.scalars(select(Refund)).all() == []


def test_cancelling_a_paid_order_records_a_refund_due(client, customer, customer_headers, db):
    product = ProductFactory(price=Decimal("1200.00"), stock=0)
    order = OrderFactory(customer=customer, paid=True, items=[(product, 1)])
    paid_with = PaymentFactory(order=order, completed=True)

    response = client.post(f"/api/orders/{order.id}/cancel", headers=customer_headers)

    assert response.status_code == 200
    refund = db.session.scalars(select(Refund)).one()
    assert (refund.order_id, refund.payment_id, refund.amount, refund.requested_by_id) == (
        order.id,
        paid_with.id,
        Decimal("1450.00"),
        customer.id,
    )
    assert stock_of(db, product) == 1


def test_orders_past_processing_cannot_be_cancelled(client, customer, customer_headers):
    order = OrderFactory(customer=customer, shipped=True)
    response = client.post(f"/api/orders/{order.id}/cancel", headers=customer_headers)
    assert response.status_code == 409


def test_admin_cancels_with_a_reason(client, admin_headers, admin, db):
    order = OrderFactory(processing=True, items=[(ProductFactory(), 1)])
    url = f"/api/orders/{order.id}/cancel"
    missing = client.post(url, json={}, headers=admin_headers)
    assert missing.status_code == 400
    assert "reason" in missing.json["error"]["details"]

    response = client.post(url, json={"reason": "Supplier out of stock"}, headers=admin_headers)
    assert response.status_code == 200
    assert response.json["data"]["history"][-1]["changed_by_id"] == admin.id


def test_cancelling_through_the_status_endpoint_also_returns_stock(client, admin_headers, db):
    product = ProductFactory(stock=0)
    order = OrderFactory(paid=True, items=[(product, 2)])
    PaymentFactory(order=order, completed=True)
    response = put_status(client, admin_headers, order, "CANCELLED", note="Fraud check")
    assert response.status_code == 200
    assert stock_of(db, product) == 2
    assert db.session.scalars(select(Refund)).one().reason == "Fraud check"


def test_someone_elses_order_cannot_be_cancelled(client, customer_headers):
    order = OrderFactory()
    response = client.post(f"/api/orders/{order.id}/cancel", headers=customer_headers)
    assert response.status_code == 404


@pytest.mark.parametrize("payment_status", [PaymentStatus.PENDING, PaymentStatus.FAILED])
def test_a_cancelled_order_cannot_be_marked_paid(
    client, role_user, auth_headers, db, payment_status
):
    product = ProductFactory(stock=0)
    order = OrderFactory(
        status=OrderStatus.CANCELLED, payment_status=payment_status, items=[(product, 1)]
    )
    response = client.put(
        f"/api/orders/{order.id}/payment",
        json={"payment_status": "COMPLETED"},
        headers=auth_headers(role_user(UserRole.FINANCE_ADMIN)),
    )
    assert response.status_code == 409
    assert response.json["error"]["code"] == "INVALID_TRANSITION"
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.status, order.payment_status, order.paid_at) == (
        OrderStatus.CANCELLED,
        payment_status,
        None,
    )
