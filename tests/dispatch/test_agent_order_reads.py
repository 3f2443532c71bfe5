"""The agent's order views read the order's row once before they commit: the row lock
the change takes, scoped to the agent (no separate load-or-404 first)."""

from __future__ import annotations

import re

from tests.admin.statements import recorded_statements
from tests.dispatch.helpers import assigned_order, code_of

ORDER_ROW = re.compile(r"\bFROM orders\b[^()]*\bWHERE orders\.id = ")


def order_reads(run) -> int:
    """How many statements ``run`` sends that read one order's row by its id."""
    return sum(bool(ORDER_ROW.search(statement)) for statement in recorded_statements(run))


def test_each_agent_view_reads_the_order_once(client, admin_headers, auth_headers):
    order, agent = assigned_order(client, admin_headers, cash=True)
    agent_headers = auth_headers(agent)
    url, total = f"/api/delivery/orders/{order.id}", str(order.total)  # read before counting

    def status():
        body = {"status": "OUT_FOR_DELIVERY"}
        assert client.put(f"{url}/status", json=body, headers=agent_headers).status_code == 200

    assert order_reads(status) == 2  # the lock, then the answer's detail after the commit
    code = code_of(client, order, auth_headers(order.customer))

    def confirm():
        body = {"code": code, "recipient_name": "Wanjiku Kamau"}
        response = client.post(f"{url}/confirm-delivery", json=body, headers=agent_headers)
        assert response.status_code == 200

    assert order_reads(confirm) == 1

    def collect():
        body = {"amount": total}
        response = client.post(f"{url}/collect-cod", json=body, headers=agent_headers)
        assert response.status_code == 200

    # the lock, and the payments domain's own (confirm_cash_payment locks the order it is given)
    assert order_reads(collect) == 2
