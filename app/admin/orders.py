"""Orders across the store: the admin list's extra filters live in
``orders.visibility.list_orders``; bulk status changes go through the one state machine
(``orders.state``: who may move an order where, and which moves exist)."""

from __future__ import annotations

from app.admin.bulk import for_each
from app.auth.models import User
from app.common.audit import record_audit
from app.orders import operations
from app.orders.models import OrderStatus
from app.orders.state import check_may_move, lock_order


def _move(order_id: int, status: OrderStatus, actor: User, note: str | None) -> str:
    order = lock_order(order_id)
    check_may_move(actor, order, status)
    before = order.status
    operations.set_status(order, status, actor=actor, note=note)
    record_audit(
        "order.status_changed",
        order,
        actor_id=actor.id,
        details={"before": {"status": str(before)}, "after": {"status": str(status)}, "note": note},
    )
    return "updated"


def bulk_update(ids: list[int], status: OrderStatus, actor: User, note: str | None) -> dict:
    return for_each(ids, lambda order_id: _move(order_id, status, actor, note))
