"""Dispatch's reactions to order events (``app/signals.py``)."""

from __future__ import annotations

from app.dispatch.proof import code_to_show, issue_code, record_delivered
from app.orders.models import Order, OrderStatus
from app.signals import delivery_code_asked, order_delivered, order_status_changed


@order_status_changed.connect
def code_when_out_for_delivery(order: Order, *, new: OrderStatus, **_) -> None:
    """However the order went out (an agent, or an admin's status change), its customer
    gets the delivery code."""
    if new == OrderStatus.OUT_FOR_DELIVERY:
        issue_code(order)


@order_delivered.connect
def open_confirmation(order: Order, **_) -> None:
    record_delivered(order)


@delivery_code_asked.connect
def answer_code(order: Order, **_) -> str | None:
    return code_to_show(order)
