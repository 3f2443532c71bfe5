"""Orders across the store: the admin list's extra filters live in
``orders.visibility.list_orders``; bulk status changes go through the one state machine
(``orders.state``: who may move an order where, and which moves exist)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.admin.bulk import for_each
from app.auth.models import User
from app.common.audit import record_audit
from app.db import get_or_404
from app.extensions import db
from app.orders import operations
from app.orders.models import Order, OrderNote, OrderStatus
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


def add_note(order_id: int, body: str, author: User) -> OrderNote:
    """An internal note on the order, audited."""
    order = get_or_404(Order, order_id)
    note = OrderNote(order_id=order.id, author_id=author.id, body=body)
    db.session.add(note)
    db.session.flush()
    record_audit("order.note_added", order, actor_id=author.id, details={"note_id": note.id})
    return note


def notes_of(order_id: int) -> list[OrderNote]:
    """The order's notes, newest first (an order has a handful)."""
    get_or_404(Order, order_id)
    return list(
        db.session.scalars(
            select(OrderNote)
            .where(OrderNote.order_id == order_id)
            .order_by(OrderNote.created_at.desc(), OrderNote.id.desc())
            .options(joinedload(OrderNote.author))
        )
    )


def bulk_update(ids: list[int], status: OrderStatus, actor: User, note: str | None) -> dict:
    return for_each(ids, lambda order_id: _move(order_id, status, actor, note))
