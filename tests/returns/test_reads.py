"""Asking for a return reads the order's row once before it commits: the row lock,
scoped to the customer (no separate load-or-404 first); and the order's open returns in
one grouped sum (the item's units left, and the rest of the order's for the policy)."""

from __future__ import annotations

import re

from app.extensions import db
from tests.admin.statements import recorded_statements
from tests.returns.test_customer import body

ORDER_ROW = re.compile(r"\bFROM orders\b[^()]*\bWHERE orders\.id = ")
OPEN_UNITS = re.compile(r"\bsum\(returns\.quantity\)")


def test_a_return_request_reads_the_order_and_its_open_returns_once(
    client, order, customer_headers
):
    request = body(order)
    db.session.expire_all()  # as in a request of its own: nothing loaded yet

    def ask():
        response = client.post("/api/returns", json=request, headers=customer_headers)
        assert response.status_code == 201, response.json

    statements = recorded_statements(ask)
    # the lock, then the answer's order number after the commit
    assert sum(bool(ORDER_ROW.search(s)) for s in statements) == 2
    assert sum(bool(OPEN_UNITS.search(s)) for s in statements) == 1
