"""Return statistics and analytics, for admins (everything) and suppliers (their own).

Every figure is exact, read by a handful of indexed, grouped queries over ``returns``
(by ``created_at``, and ``supplier_id``) and the delivered order lines (by
``orders.delivered_at``): counts by status and reason, units, money, response rate,
median times, and return rates (units returned / units delivered) per supplier, product
and category.
"""

from __future__ import annotations

from decimal import Decimal
from statistics import median
from typing import Any

from sqlalchemy import func, select

from app.auth.models import SupplierProfile
from app.catalog.models import Category, Product
from app.extensions import db
from app.ledger.operations import sum_to_cents
from app.orders.models import Order, OrderItem
from app.returns.models import ReturnRequest, ReturnStatus
from app.returns.operations import APPROVED_STATES

TOP = 20  # rows per return-rate table


def _conditions(params: dict[str, Any], supplier_id: int | None) -> list:
    conditions = []
    if supplier_id is not None:
        conditions.append(ReturnRequest.supplier_id == supplier_id)
    if params.get("from"):
        conditions.append(ReturnRequest.created_at >= params["from"])
    if params.get("to"):
        conditions.append(ReturnRequest.created_at <= params["to"])
    return conditions


def _hours(pairs) -> float | None:
    durations = [(end - start).total_seconds() / 3600 for start, end in pairs]
    return round(median(durations), 2) if durations else None


def return_stats(params: dict[str, Any], supplier_id: int | None = None) -> dict[str, Any]:
    where = _conditions(params, supplier_id)
    R = ReturnRequest
    counted = func.count(R.id)
    by_status = dict(
        db.session.execute(select(R.status, counted).where(*where).group_by(R.status)).all()
    )
    by_reason = dict(
        db.session.execute(select(R.reason, counted).where(*where).group_by(R.reason)).all()
    )
    approved = R.status.in_(APPROVED_STATES)
    totals = db.session.execute(
        select(
            func.count(R.id),
            func.coalesce(func.sum(R.quantity), 0),
            func.coalesce(func.sum(R.quantity).filter(approved), 0),
            func.sum(R.refund_amount).filter(R.refunded_at.is_not(None)),
            func.sum(R.supplier_deduction).filter(approved),
            func.sum(R.restocking_fee).filter(approved),
            func.count(R.id).filter(R.supplier_responded_at.is_not(None)),
            func.count(R.id).filter(R.status != ReturnStatus.CANCELLED),
        ).where(*where)
    ).one()
    count, units, units_returned, refunded, deducted, fees, responded, asked = totals
    decided = db.session.execute(
        select(R.created_at, R.decided_at).where(*where, R.decided_at.is_not(None))
    ).all()
    refunded_pairs = db.session.execute(
        select(R.created_at, R.refunded_at).where(*where, R.refunded_at.is_not(None))
    ).all()
    return {
        "total": count,
        "units_requested": int(units),
        "units_returned": int(units_returned),
        "by_status": {str(status): by_status.get(status, 0) for status in ReturnStatus},
        "by_reason": {str(reason): n for reason, n in sorted(by_reason.items())},
        "refunded_amount": sum_to_cents(refunded),
        "supplier_deductions": sum_to_cents(deducted),
        "restocking_fees": sum_to_cents(fees),
        "supplier_response_rate": round(responded / asked, 4) if asked else None,
        "median_hours_to_decision": _hours(decided),
        "median_hours_to_refund": _hours(refunded_pairs),
    }


def _delivered_units(group_column, params, supplier_id):
    conditions = [Order.delivered_at.is_not(None)]
    if params.get("from"):
        conditions.append(Order.delivered_at >= params["from"])
    if params.get("to"):
        conditions.append(Order.delivered_at <= params["to"])
    if supplier_id is not None:
        conditions.append(OrderItem.supplier_id == supplier_id)
    statement = (
        select(group_column, func.sum(OrderItem.quantity))
        .select_from(OrderItem)
        .join(Order, Order.id == OrderItem.order_id)
        .join(Product, Product.id == OrderItem.product_id)
        .where(*conditions)
        .group_by(group_column)
    )
    return dict(db.session.execute(statement).all())


def _returned_units(group_column, params, supplier_id):
    statement = (
        select(group_column, func.sum(ReturnRequest.quantity))
        .select_from(ReturnRequest)
        .join(Product, Product.id == ReturnRequest.product_id)
        .where(*_conditions(params, supplier_id), ReturnRequest.status.in_(APPROVED_STATES))
        .group_by(group_column)
    )
    return dict(db.session.execute(statement).all())


def _rates(group_column, returned: dict, names: dict, params, supplier_id) -> list[dict]:
    delivered = _delivered_units(group_column, params, supplier_id)
    rows = [
        {
            "id": key,
            "name": names.get(key),
            "units_returned": int(units),
            "units_delivered": int(delivered.get(key) or 0),
            "return_rate": (
                round(Decimal(units) / Decimal(delivered[key]), 4) if delivered.get(key) else None
            ),
        }
        for key, units in returned.items()
    ]
    rows.sort(key=lambda row: (-(row["return_rate"] or 0), -row["units_returned"], row["id"] or 0))
    return rows[:TOP]


def _names(model, column, ids) -> dict:
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, column).where(model.id.in_(ids))).all())


def return_analytics(params: dict[str, Any], supplier_id: int | None = None) -> dict[str, Any]:
    """The stats plus return rates by supplier, product and category (top rates first)."""
    stats = return_stats(params, supplier_id)
    tables = {}
    for key, column, model, label in (
        ("by_supplier", Product.supplier_id, SupplierProfile, SupplierProfile.business_name),
        ("by_product", Product.id, Product, Product.name),
        ("by_category", Product.category_id, Category, Category.name),
    ):
        returned = _returned_units(column, params, supplier_id)
        names = _names(model, label, [k for k in returned if k is not None])
        tables[key] = _rates(column, returned, names, params, supplier_id)
    stats["return_rates"] = tables
    stats["from"] = params.get("from")
    stats["to"] = params.get("to")
    return stats
