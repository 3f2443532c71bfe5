"""Returns' answers to the other domains' events (``app/signals.py``)."""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import func, select

from app.db import utcnow
from app.extensions import db
from app.orders.models import Order
from app.payments.models import Refund, RefundCause
from app.returns import operations
from app.returns.models import ReturnRequest
from app.signals import order_delivered, refund_settled, supplier_returns_asked


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


@order_delivered.connect
def start_warranties(order: Order, **_: object) -> None:
    """Each item's warranty runs from delivery for the months it was sold with."""
    delivered_at = order.delivered_at or utcnow()
    for item in order.items:
        if item.warranty_months and item.warranty_expires_at is None:
            item.warranty_expires_at = add_months(delivered_at, item.warranty_months)
    db.session.flush()


@refund_settled.connect
def complete_returned_refund(refund: Refund, **_: object) -> None:
    """A return's refund confirmed: the return moves on (its row locked after the
    order, payment and refund rows the settlement holds)."""
    if refund.cause != RefundCause.RETURN:
        return
    ret = db.session.scalar(
        select(ReturnRequest)
        .where(ReturnRequest.refund_id == refund.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if ret is not None and ret.refunded_at is None:
        operations.refund_completed(ret)


@supplier_returns_asked.connect
def count_supplier_returns(supplier_id: int, *, start: datetime, end: datetime, **_) -> dict:
    """Returns asked of the supplier's items in [start, end), and the units approved."""
    count, items = db.session.execute(
        select(
            func.count(ReturnRequest.id),
            func.coalesce(
                func.sum(ReturnRequest.quantity).filter(
                    ReturnRequest.status.in_(operations.APPROVED_STATES)
                ),
                0,
            ),
        ).where(
            ReturnRequest.supplier_id == supplier_id,
            ReturnRequest.created_at >= start,
            ReturnRequest.created_at < end,
        )
    ).one()
    return {"count": int(count), "items_returned": int(items)}
