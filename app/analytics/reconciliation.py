"""``GET /admin/reports/reconciliation``: where our records and the providers' disagree.

Sections: flagged payments (an amount that did not match, a payment for an order already
paid or cancelled, a reused receipt), callbacks for no payment of ours (unknown), refunds
owed or failed, M-Pesa B2C transfers (payouts, refunds) still in flight or of unknown
outcome, and cash on delivery collected but not handed in, each with the provider's
references. One row shape for every
section, so the same rows feed the JSON and the spreadsheet.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.calendar import utc_bounds
from app.disbursements.models import Disbursement, DisbursementStatus
from app.dispatch.models import CodCollection, CodStatus
from app.extensions import db
from app.money import ZERO
from app.orders.models import Order
from app.payments.models import Outcome, Payment, ProviderEvent, Refund, RefundCause, RefundStatus

COLUMNS = (
    "section",
    "problem",
    "occurred_at",
    "order_number",
    "provider",
    "reference",
    "provider_reference",
    "status",
    "amount",
    "amount_received",
    "detail",
)
SECTIONS = (
    "flagged_payments",
    "unknown_payments",
    "refunds",
    "transfers_in_flight",
    "cash_not_handed_in",
)
IN_FLIGHT = (DisbursementStatus.SENDING, DisbursementStatus.SENT)
UNSETTLED_REFUNDS = (RefundStatus.PENDING, RefundStatus.PROCESSING, RefundStatus.FAILED)
BATCH = 1000


def _problem(payment: Payment, cause: str | None) -> str:
    if cause == RefundCause.LATE_PAYMENT:
        return "LATE"
    if cause == RefundCause.DUPLICATE_PAYMENT:
        return "DUPLICATE"
    if payment.amount_received is not None and payment.amount_received != payment.amount:
        return "AMOUNT_MISMATCH"
    if payment.failure_code == Outcome.AMOUNT_MISMATCH:
        return "AMOUNT_MISMATCH"
    return "FLAGGED"


def rows(first: date, last: date) -> Iterator[dict[str, Any]]:
    """Every row of the report, section by section, oldest first (read in batches)."""
    start, end = utc_bounds(first, last)
    unapplied = (
        select(Refund.payment_id, Refund.cause)
        .where(Refund.cause.in_((RefundCause.LATE_PAYMENT, RefundCause.DUPLICATE_PAYMENT)))
        .subquery()
    )
    payments = db.session.execute(
        select(Payment, Order.order_number, unapplied.c.cause)
        .join(Order, Order.id == Payment.order_id)
        .outerjoin(unapplied, unapplied.c.payment_id == Payment.id)
        .where(Payment.flagged, Payment.created_at >= start, Payment.created_at < end)
        .order_by(Payment.created_at, Payment.id)
        .execution_options(yield_per=BATCH)
    )
    for payment, order_number, cause in payments:
        yield {
            "section": "flagged_payments",
            "problem": _problem(payment, cause),
            "occurred_at": payment.completed_at or payment.created_at,
            "order_number": order_number,
            "provider": str(payment.provider),
            "reference": payment.reference,
            "provider_reference": payment.receipt or payment.checkout_request_id,
            "status": str(payment.status),
            "amount": payment.amount,
            "amount_received": payment.amount_received,
            "detail": payment.flag_reason,
        }
    events = db.session.scalars(
        select(ProviderEvent)
        .where(
            ProviderEvent.outcome == Outcome.UNKNOWN_PAYMENT,
            ProviderEvent.received_at >= start,
            ProviderEvent.received_at < end,
        )
        .order_by(ProviderEvent.received_at, ProviderEvent.id)
        .execution_options(yield_per=BATCH)
    )
    for event in events:
        yield {
            "section": "unknown_payments",
            "problem": "UNKNOWN",
            "occurred_at": event.received_at,
            "order_number": None,
            "provider": str(event.provider),
            "reference": None,
            "provider_reference": event.external_id,
            "status": event.kind,
            "amount": None,
            "amount_received": None,
            "detail": event.detail,
        }
    refunds = db.session.execute(
        select(Refund, Order.order_number, Payment.provider)
        .join(Order, Order.id == Refund.order_id)
        .outerjoin(Payment, Payment.id == Refund.payment_id)
        .where(
            Refund.status.in_(UNSETTLED_REFUNDS),
            Refund.created_at >= start,
            Refund.created_at < end,
        )
        .order_by(Refund.created_at, Refund.id)
        .execution_options(yield_per=BATCH)
    )
    for refund, order_number, provider in refunds:
        yield {
            "section": "refunds",
            "problem": "FAILED" if refund.status == RefundStatus.FAILED else "DUE",
            "occurred_at": refund.created_at,
            "order_number": order_number,
            "provider": str(provider) if provider else None,
            "reference": refund.key,
            "provider_reference": refund.provider_reference,
            "status": str(refund.status),
            "amount": refund.amount,
            "amount_received": None,
            "detail": refund.reason,
        }
    transfers = db.session.scalars(
        select(Disbursement)
        .where(
            Disbursement.status.in_(IN_FLIGHT),
            Disbursement.created_at >= start,
            Disbursement.created_at < end,
        )
        .order_by(Disbursement.created_at, Disbursement.id)
        .execution_options(yield_per=BATCH)
    )
    for transfer in transfers:
        yield {
            "section": "transfers_in_flight",
            "problem": "UNKNOWN" if transfer.unknown else "IN_FLIGHT",
            "occurred_at": transfer.sent_at or transfer.created_at,
            "order_number": None,
            "provider": "MPESA",
            "reference": transfer.originator_conversation_id,
            "provider_reference": transfer.conversation_id,
            "status": str(transfer.status),
            "amount": transfer.amount,
            "amount_received": None,
            "detail": f"{transfer.purpose} {transfer.subject_id} to {transfer.phone}",
        }
    cash = db.session.execute(
        select(CodCollection, Order.order_number)
        .join(Order, Order.id == CodCollection.order_id)
        .where(
            CodCollection.status == CodStatus.COLLECTED,
            CodCollection.collected_at >= start,
            CodCollection.collected_at < end,
        )
        .order_by(CodCollection.collected_at, CodCollection.id)
        .execution_options(yield_per=BATCH)
    )
    for collection, order_number in cash:
        yield {
            "section": "cash_not_handed_in",
            "problem": "NOT_HANDED_IN",
            "occurred_at": collection.collected_at,
            "order_number": order_number,
            "provider": "CASH",
            "reference": None,
            "provider_reference": None,
            "status": str(collection.status),
            "amount": collection.amount,
            "amount_received": None,
            "detail": f"held by user {collection.agent_id or collection.collected_by_id}",
        }


def report(first: date, last: date, *, limit: int) -> dict[str, Any]:
    """Per section: the count and amount of every row, and its first ``limit`` rows."""
    sections: dict[str, dict[str, Any]] = {
        name: {"count": 0, "amount": ZERO, "items": []} for name in SECTIONS
    }
    for row in rows(first, last):
        section = sections[row["section"]]
        section["count"] += 1
        section["amount"] += row["amount"] or Decimal(0)
        if len(section["items"]) < limit:
            section["items"].append(row)
    return {"from": first, "to": last, **sections}
