"""``GET /admin/analytics``: sales, orders and their breakdowns, from the rollups."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import distinct, func, select

from app.analytics.models import BreakdownRollup, OrderRollup
from app.analytics.queries import sums, sums_by_period, top
from app.analytics.receivers import PAYMENT_COMPLETED
from app.auth.models import SupplierProfile
from app.calendar import utc_bounds
from app.cart.models import CartItem
from app.catalog.models import Category, Product
from app.extensions import db
from app.money import CENTS, ZERO

PLACED = "PENDING"  # an order reaches PENDING when it is placed
TOP = 10
RATE = Decimal("0.0001")


def average(total: Decimal, count: int) -> Decimal:
    return (total / count).quantize(CENTS, rounding=ROUND_HALF_UP) if count else ZERO


def rate(part: int, whole: int) -> Decimal:
    return (Decimal(part) / whole).quantize(RATE, rounding=ROUND_HALF_UP) if whole else RATE * 0


def _orders(sums_by_event: dict[tuple, dict]) -> dict[str, object]:
    placed = sums_by_event.get((PLACED,), {}).get("orders", 0)
    paid = sums_by_event.get((PAYMENT_COMPLETED,), {"orders": 0, "amount": ZERO})
    return {
        "orders_placed": placed,
        "orders_paid": paid["orders"],
        "sales": paid["amount"],
        "average_order_value": average(paid["amount"], paid["orders"]),
    }


def carts_left(first: date, last: date) -> int:
    """Carts given items in the range that still hold them (not checked out)."""
    start, end = utc_bounds(first, last)
    return db.session.scalar(
        select(func.count(distinct(CartItem.cart_id))).where(
            CartItem.created_at >= start, CartItem.created_at < end
        )
    )


def _named(model, ids) -> dict[int, str]:
    name = model.business_name if model is SupplierProfile else model.name
    if not ids:
        return {}
    return dict(db.session.execute(select(model.id, name).where(model.id.in_(ids))).all())


def breakdown(dimension: str, first: date, last: date, *, limit: int | None = None) -> dict:
    """{member: {items, gmv}} of one breakdown, largest sales first (only the ``limit``
    largest: a ranking that reads a few rows per bucket, ``queries.top``); members that
    are ids come back as ints."""
    where = (BreakdownRollup.dimension == dimension,)
    if limit is None:
        summed = sums(BreakdownRollup, first, last, ("member",), where=where, order_by="gmv")
    else:
        summed = top(BreakdownRollup, first, last, "member", by="gmv", limit=limit, where=where)
    as_id = dimension != "payment_method"
    return {(int(member) if as_id else member): v for (member,), v in summed.items()}


def _breakdown(summed: dict, names: dict[int, str]) -> list[dict]:
    return [
        {"id": key, "name": names.get(key), "sales": v["gmv"], "items_sold": v["items"]}
        for key, v in summed.items()
    ]


def analytics(first: date, last: date, ranges: list[tuple[date, date]]) -> dict[str, object]:
    events = (OrderRollup.event.in_((PLACED, PAYMENT_COMPLETED)),)
    series = [
        {"start": start, "end": end, **_orders(by_event)}
        for (start, end), by_event in zip(
            ranges, sums_by_period(OrderRollup, ranges, ("event",), where=events), strict=True
        )
    ]
    totals = _orders(sums(OrderRollup, first, last, ("event",), where=events))
    left = carts_left(first, last)
    totals["carts_left"] = left
    totals["cart_conversion_rate"] = rate(totals["orders_placed"], totals["orders_placed"] + left)

    by_method = breakdown("payment_method", first, last)
    totals["items_sold"] = sum(values["items"] for values in by_method.values())
    by_category = breakdown("category", first, last)
    by_supplier = breakdown("supplier", first, last, limit=TOP)
    by_county = sums(
        OrderRollup,
        first,
        last,
        ("county",),
        where=(OrderRollup.event == PAYMENT_COMPLETED,),
        order_by="amount",
    )
    products = breakdown("product", first, last, limit=TOP)
    category_names = _named(Category, list(by_category))
    supplier_names = _named(SupplierProfile, list(by_supplier))
    product_names = _named(Product, list(products))
    return {
        "from": first,
        "to": last,
        "totals": totals,
        "series": series,
        "by_payment_method": [
            {"payment_method": method, "sales": v["gmv"], "items_sold": v["items"]}
            for method, v in sorted(by_method.items())
        ],
        "by_category": _breakdown(by_category, category_names),
        "by_supplier": _breakdown(by_supplier, supplier_names),
        "by_county": [
            {"county": county, "sales": v["amount"], "orders_paid": v["orders"]}
            for (county,), v in by_county.items()
        ],
        "top_products": _breakdown(products, product_names),
    }
