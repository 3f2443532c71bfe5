"""Checkout: the customer's cart becomes an order, all or nothing, never overselling.

Checkout and cancellation are the only places stock moves for an order. Both lock
product rows in primary-key order, so two transactions never wait on each other in a
cycle (no deadlock), and checkout takes stock with a decrement conditional on the
locked row's newest stock, so it never oversells.
"""

from __future__ import annotations

import functools
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, Select, Update, and_, bindparam, case, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import SupplierProfile, User
from app.cart.operations import CART_MAX_LINES, take_lines
from app.catalog.models import Category, Product, commission_rate
from app.catalog.visibility import current_dialect, listed
from app.db import utcnow
from app.delivery.models import DeliveryZone
from app.delivery.operations import delivery_fee
from app.errors import (
    Conflict,
    InsufficientStock,
    Unprocessable,
)
from app.extensions import db
from app.money import ZERO, ensure_storable, format_money, line_commission
from app.orders.models import (
    Address,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from app.orders.state import record_history
from app.orders.writer import attach_persistent, insert_new
from app.settings import setting
from app.signals import order_placed

ORDER_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes
ORDER_NUMBER_ATTEMPTS = 5


def new_order_number() -> str:
    """``QG-YYYYMMDD-XXXXXX``: the UTC date and six random characters (~10^9 a day)."""
    suffix = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))
    return f"QG-{utcnow():%Y%m%d}-{suffix}"


def _is_order_number_clash(error: IntegrityError) -> bool:
    # PostgreSQL names the constraint (uq_orders_order_number), SQLite the column.
    return "order_number" in str(error.orig)


class CheckoutProduct(NamedTuple):
    """What checkout reads of a product: its stock, whether it is listed (for sale: see
    ``app.catalog.visibility``) and what an order line snapshots."""

    id: int
    name: str
    sku: str | None
    price: Decimal
    stock: int
    listed: bool
    supplier_id: int
    warranty_months: int
    effective_commission_rate: Decimal


@functools.cache
def _products_statement(dialect: str) -> Select:
    """The columns checkout reads of the products ``ids`` (on the tables: see
    ``_take_stock_statement``), built once per ``dialect``, the session's, on which
    ``listed()`` depends."""
    products, categories = Product.__table__, Category.__table__
    suppliers = SupplierProfile.__table__
    return (
        select(
            products.c.id,
            products.c.name,
            products.c.sku,
            products.c.price,
            products.c.stock,
            and_(*listed()).label("listed"),
            products.c.supplier_id,
            products.c.warranty_months,
            products.c.commission_rate.label("own_rate"),
            categories.c.commission_rate.label("category_rate"),
            suppliers.c.commission_rate.label("supplier_rate"),
        )
        .outerjoin(categories, categories.c.id == products.c.category_id)
        .outerjoin(suppliers, suppliers.c.id == products.c.supplier_id)
        .where(products.c.id.in_(bindparam("ids", expanding=True)))
    )


def _read_products(product_ids: list[int]) -> dict[int, CheckoutProduct]:
    """The products as committed now, unlocked: what the order snapshots and pre-checks.

    Plain rows, not entities: checkout only reads them (loading entities costs more CPU
    than the query)."""
    rows = db.session.execute(_products_statement(current_dialect()), {"ids": product_ids})
    products = {}
    for row in rows:
        columns = dict(row._mapping)  # by the columns' labels, not their positions
        rate = commission_rate(
            columns.pop("own_rate"), columns.pop("category_rate"), columns.pop("supplier_rate")
        )
        products[row.id] = CheckoutProduct(**columns, effective_commission_rate=rate)
    return products


@functools.lru_cache(maxsize=CART_MAX_LINES)
def _take_stock_statement(dialect: str, lines: int) -> Update:
    """``_take_stock``'s statement for ``lines`` products, built once per number of
    lines (a cart holds at most ``CART_MAX_LINES``: the cache keeps them all, for the one
    ``dialect`` a process talks to; ``listed()`` depends on it); the products and
    quantities are bound as ``id0``, ``q0``, ... It is written on the table, not the
    entity: no loaded object needs it, and the ORM's handling of an update statement
    costs more CPU than the statement itself (``listed()``'s criteria, on the entity,
    go in through ``and_``, which keeps the statement a plain one)."""
    products = Product.__table__
    ids = [bindparam(f"id{n}", type_=Integer) for n in range(lines)]
    taken = case(
        {id_: bindparam(f"q{n}", type_=Integer) for n, id_ in enumerate(ids)},
        value=products.c.id,
    )
    locked = (
        select(products.c.id)
        .where(products.c.id.in_(ids))
        .order_by(products.c.id)
        .with_for_update(key_share=True)
        .cte("locked")
    )
    return (
        update(products)
        .where(
            products.c.id == locked.c.id,
            and_(*listed()),
            products.c.stock >= taken,
        )
        .values(stock=products.c.stock - taken, sold_count=products.c.sold_count + taken)
        .returning(products.c.id)
    )


def _take_stock(quantities: dict[int, int]) -> None:
    """Lock the rows in primary-key order and take every quantity, or refuse them all.

    One statement: the CTE locks the rows in id order (the order every writer uses, so
    no deadlock), FOR NO KEY UPDATE like the update itself: FOR UPDATE would also wait
    on the KEY SHARE locks that concurrent checkouts' order lines (foreign keys to the
    product) hold, each on the other's. The update then decrements only the rows that
    are listed and still hold enough; under READ COMMITTED PostgreSQL re-checks that on
    the newest version of a row a concurrent transaction changed, so it never oversells.
    A row left out is a shortfall, reported with the stock as re-read now; the rows
    already decremented are undone by the caller's rollback. SQLite ignores FOR UPDATE:
    it runs one writer at a time anyway.
    """
    params = {}
    for n, (id_, quantity) in enumerate(quantities.items()):
        params[f"id{n}"], params[f"q{n}"] = id_, quantity
    statement = _take_stock_statement(current_dialect(), len(quantities))
    updated = set(db.session.scalars(statement, params))
    if len(updated) < len(quantities):
        missed = {id_: quantity for id_, quantity in quantities.items() if id_ not in updated}
        now = _read_products(list(missed))
        raise _insufficient_stock([_shortage(id_, q, now.get(id_)) for id_, q in missed.items()])


def _shortage(product_id: int, quantity: int, product: CheckoutProduct | None) -> dict:
    """A line as the 422 lists it: what was asked for and what there is to sell."""
    return {
        "product_id": product_id,
        "name": product.name if product is not None else None,
        "requested": quantity,
        "available": product.stock if product is not None and product.listed else 0,
    }


def _shortfalls(quantities: dict[int, int], products: dict[int, CheckoutProduct]) -> list[dict]:
    problems = [_shortage(id_, quantity, products.get(id_)) for id_, quantity in quantities.items()]
    return [problem for problem in problems if problem["requested"] > problem["available"]]


def _insufficient_stock(problems: list[dict]) -> InsufficientStock:
    names = ", ".join(f"'{p['name']}' ({p['available']} available)" for p in problems)
    # One short product: its fields at the top level too, as API.md's example shows.
    details = dict(problems[0]) if len(problems) == 1 else {}
    details["items"] = problems
    return InsufficientStock(f"Not enough stock for {names}", details=details)


def order_item_snapshot(product: Product | CheckoutProduct, quantity: int) -> OrderItem:
    """A line with today's price, commission rate, supplier and warranty frozen into it."""
    line_total = product.price * quantity
    rate = product.effective_commission_rate
    return OrderItem(
        product_id=product.id,
        supplier_id=product.supplier_id,
        product_name=product.name,
        product_sku=product.sku,
        unit_price=product.price,
        quantity=quantity,
        line_total=line_total,
        commission_rate=rate,
        commission_amount=line_commission(line_total, rate),
        warranty_months=product.warranty_months,
    )


def place_order(
    customer: User,
    *,
    address: Address,
    zone: DeliveryZone,
    payment_method: PaymentMethod,
    notes: str | None = None,
) -> Order:
    """Turn the customer's cart into an order, all or nothing.

    Takes the cart's lines under the cart lock (a second checkout of the same cart
    waits, then finds it empty); reads the products unlocked and refuses a shortfall
    already visible, naming every short product (the caller's rollback puts the cart
    back); writes the order, its snapshotted lines and history, queues the email (its
    outbox row, offline, is written now); and only then, as the last statement before
    the commit, takes the stock (see ``_take_stock``), refusing with the same 422 if
    another checkout got there first.

    The order, lines and history are INSERTed on the tables (``insert_new``): through
    the unit of work, their flush cost a sixth of a checkout's CPU (valgrind, 17.3 M
    → 14.4 M instructions, ``scripts/checkout_instructions.py``). They join the session
    only once the stock is taken, so a refused checkout leaves nothing in it.

    Every buyer of a hot product waits for its row lock: taken last, it is held for
    that statement and the commit only. The order keeps the price of that unlocked
    read, the one the customer was shown, even if the product's price changes before
    the stock is taken. On the rare clash of the random order number with an existing
    one, the transaction (which holds no product lock yet) is rolled back and the
    checkout runs again with a new number.
    """
    for _ in range(ORDER_NUMBER_ATTEMPTS):
        try:
            return _place_order(
                customer, address=address, zone=zone, payment_method=payment_method, notes=notes
            )
        except IntegrityError as error:
            if not _is_order_number_clash(error):
                raise
            db.session.rollback()
    raise Conflict("Could not allocate an order number, please retry", code="ORDER_NUMBER_TAKEN")


def _place_order(
    customer: User,
    *,
    address: Address,
    zone: DeliveryZone,
    payment_method: PaymentMethod,
    notes: str | None,
) -> Order:
    quantities = dict(sorted(take_lines(customer.id).items()))
    if not quantities:
        raise Unprocessable("Your cart is empty", code="CART_EMPTY")

    products = _read_products(list(quantities))
    problems = _shortfalls(quantities, products)
    if problems:
        raise _insufficient_stock(problems)

    items = [order_item_snapshot(products[id_], quantity) for id_, quantity in quantities.items()]
    subtotal = sum((item.line_total for item in items), ZERO)
    fee = delivery_fee(zone, subtotal)
    total = subtotal + fee
    ensure_storable(total, "The order's total")  # and so its subtotal and lines
    cod_limit = Decimal(setting("cod_max_total"))
    if payment_method == PaymentMethod.CASH and total > cod_limit:
        raise Unprocessable(
            f"Cash on delivery is available for orders up to KES {format_money(cod_limit)}; "
            "please pay by M-Pesa or card",
            code="COD_LIMIT_EXCEEDED",
            details={"limit": format_money(cod_limit), "total": format_money(total)},
        )

    timeout = timedelta(minutes=current_app.config["ORDER_PAYMENT_TIMEOUT_MINUTES"])
    order = Order(
        order_number=new_order_number(),
        customer_id=customer.id,
        status=OrderStatus.PENDING,
        payment_status=PaymentStatus.PENDING,
        payment_method=payment_method,
        subtotal=subtotal,
        delivery_fee=fee,
        total=total,
        notes=notes,
        address_id=address.id,
        delivery_zone=zone,
        recipient_name=address.recipient_name,
        recipient_phone=address.phone,
        delivery_county=address.county,
        delivery_town=address.town,
        delivery_street=address.street,
        delivery_landmark=address.landmark,
        estimated_delivery_days=zone.estimated_days,
        payment_due_at=None if payment_method == PaymentMethod.CASH else utcnow() + timeout,
        items=items,
        history=[],
    )
    record_history(order, "status", None, OrderStatus.PENDING, actor_id=customer.id, note="Placed")
    rows = [order, *order.items, *order.history]
    for group in ([order], order.items, order.history):  # the order first: the others take its id
        insert_new(db.session, group)

    order_placed.send(order, actor_id=customer.id)  # the confirmation email's receiver
    _take_stock(quantities)
    attach_persistent(db.session, rows)
    return order
