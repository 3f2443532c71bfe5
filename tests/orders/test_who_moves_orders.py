"""Who may move an order where: one table (``state.ROLE_TARGETS``), the same answer through
every endpoint that moves an order."""

from __future__ import annotations

import pytest

from app.auth.models import UserRole
from app.orders.models import Order, OrderStatus
from app.orders.state import ROLE_TARGETS
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory

S, R = OrderStatus, UserRole

# The policy, stated independently of the table it checks.
MAY_MOVE_TO = {
    R.ADMIN: frozenset(S) - {S.PENDING},
    R.FINANCE_ADMIN: {S.PAID},
    R.SUPPORT_ADMIN: {S.CANCELLED},
    R.PRODUCT_MANAGER: set(),
    R.SUPPLIER: {S.PROCESSING, S.QUALITY_APPROVED},
    R.CUSTOMER: {S.CANCELLED},
    R.DELIVERY_AGENT: {S.OUT_FOR_DELIVERY, S.ARRIVED, S.SHIPPED},
}

# A status each target is reached from.
FROM = {
    S.PAID: S.PENDING,
    S.PROCESSING: S.PAID,
    S.QUALITY_APPROVED: S.PROCESSING,
    S.SHIPPED: S.QUALITY_APPROVED,
    S.OUT_FOR_DELIVERY: S.SHIPPED,
    S.ARRIVED: S.OUT_FOR_DELIVERY,
    S.DELIVERED: S.ARRIVED,
    S.CANCELLED: S.PAID,
    S.RETURNED: S.DELIVERED,
}

# (endpoint, target): every way to move an order. Where allowed, PAID through the status
# endpoint is still 409 (it follows a payment); everything else succeeds.
MOVES = [("status", target) for target in FROM] + [("cancel", S.CANCELLED), ("payment", S.PAID)]


def move(client, headers, order: Order, endpoint: str, target: OrderStatus):
    url = f"/api/orders/{order.id}"
    if endpoint == "status":
        return client.put(f"{url}/status", json={"status": target}, headers=headers)
    if endpoint == "cancel":
        return client.post(f"{url}/cancel", json={"reason": "Asked to"}, headers=headers)
    return client.put(f"{url}/payment", json={"payment_status": "COMPLETED"}, headers=headers)


def test_the_table_is_the_stated_policy():
    assert {role: ROLE_TARGETS.get(role, frozenset()) for role in R} == MAY_MOVE_TO


@pytest.mark.parametrize("role", list(MAY_MOVE_TO), ids=str)
@pytest.mark.parametrize(("endpoint", "target"), MOVES, ids=lambda v: str(v))
def test_every_endpoint_gives_the_same_answer(
    client, role_user, customer, auth_headers, role, endpoint, target
):
    user = customer if role == R.CUSTOMER else role_user(role)
    supplier = user.supplier_profile if role == R.SUPPLIER else None
    product = ProductFactory(**({"supplier": supplier} if supplier else {}))
    order = OrderFactory(
        customer=customer,
        status=FROM[target],
        paid=FROM[target] != S.PENDING,
        delivery_agent_id=user.id if role == R.DELIVERY_AGENT else None,
        items=[(product, 1)],
    )

    response = move(client, auth_headers(user), order, endpoint, target)

    if target not in MAY_MOVE_TO[role]:
        assert response.status_code == 403, response.json
    elif (endpoint, target) == ("status", S.PAID):
        assert response.status_code == 409, response.json
    else:
        assert response.status_code == 200, response.json
        assert response.json["data"]["status"] == target


@pytest.mark.parametrize("role", [R.FINANCE_ADMIN, R.PRODUCT_MANAGER])
def test_finance_and_product_admins_cannot_cancel_through_either_endpoint(
    client, role_user, auth_headers, role, db
):
    headers = auth_headers(role_user(role))
    order = OrderFactory(paid=True, items=[(ProductFactory(), 1)])
    assert move(client, headers, order, "cancel", S.CANCELLED).status_code == 403
    assert move(client, headers, order, "status", S.CANCELLED).status_code == 403
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == S.PAID


def test_a_customer_cancelling_through_the_status_endpoint_is_the_customer(
    client, customer, customer_headers
):
    order = OrderFactory(customer=customer, items=[(ProductFactory(), 1)])
    response = client.put(
        f"/api/orders/{order.id}/status", json={"status": "CANCELLED"}, headers=customer_headers
    )
    assert response.status_code == 200
    assert response.json["data"]["cancellation_reason"] == "Cancelled by the customer"
