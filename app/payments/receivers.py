"""What payments does when another domain's event happens (``app/signals.py``)."""

from __future__ import annotations

from app.disbursements.models import Disbursement, DisbursementPurpose
from app.orders.models import Order
from app.payments.refunds import record_refund_due, transfer_sent, transfer_settled
from app.signals import disbursement_settled, disbursements_sent, order_cancelled


@order_cancelled.connect
def refund_cancelled_order(
    order: Order, *, actor_id: int | None, reason: str, was_paid: bool, **_: object
) -> None:
    """A paid order was cancelled: its payment is owed back (once per order and cause)."""
    if was_paid:
        record_refund_due(order, reason=reason, requested_by_id=actor_id)


@disbursements_sent.connect
def refund_transfers_sent(purpose, *, disbursements: list[Disbursement], **_: object) -> None:
    """A refund's B2C transfer left (or may have): the refund is PROCESSING."""
    if purpose != DisbursementPurpose.REFUND:
        return
    for disbursement in sorted(disbursements, key=lambda d: d.subject_id):
        transfer_sent(disbursement)


@disbursement_settled.connect
def refund_transfer_settled(disbursement: Disbursement, *, status: str, **_: object) -> None:
    """M-Pesa's result for a refund's transfer: the refund COMPLETED or FAILED, once."""
    if disbursement.purpose == DisbursementPurpose.REFUND:
        transfer_settled(disbursement, status)
