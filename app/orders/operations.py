"""Order rules: addresses, delivery fees, checkout, status changes and cancellation.

Checkout and cancellation are the only places stock moves for an order. Both lock
product rows in primary-key order, so two transactions never wait on each other in a
cycle (no deadlock), and checkout takes stock with a decrement conditional on the
locked row's newest stock, so it never oversells.
"""

from __future__ import annotations

import functools
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, Select, Update, bindparam, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.cart.operations import take_lines
from app.catalog.models import Category, Product, commission_rate
from app.db import attach_persistent, insert_new, utcnow
from app.errors import (
    Conflict,
    Forbidden,
    InsufficientStock,
    InvalidTransition,
    NotFound,
    Unprocessable,
)
from app.extensions import db
from app.money import CENTS, format_money
from app.notifications.email import send_email_after_commit
from app.orders.models import (
    Address,
    DeliveryZone,
    Order,
    OrderItem,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from app.orders.state import change_payment_status, change_status, lock_order, record_history
from app.payments.refunds import record_refund_due

ZERO = Decimal("0.00")
ORDER_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I look-alikes
ORDER_NUMBER_ATTEMPTS = 5
CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING})


# Delivery zones ---------------------------------------------------------------------
def active_zone(zone_id: int) -> DeliveryZone:
    zone = db.session.get(DeliveryZone, zone_id)
    if zone is None or not zone.is_active:
        raise NotFound("Delivery zone not found", details={"delivery_zone_id": zone_id})
    return zone


def delivery_fee(zone: DeliveryZone, subtotal: Decimal) -> Decimal:
    """The zone's fee, or nothing once the subtotal reaches its free-delivery threshold."""
    threshold = zone.free_delivery_threshold
    if threshold is not None and subtotal >= threshold:
        return ZERO
    return zone.fee


@dataclass(frozen=True)
class DeliveryQuote:
    zone: DeliveryZone
    subtotal: Decimal
    fee: Decimal

    @property
    def free_delivery(self) -> bool:
        return self.fee == ZERO

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.fee


def quote_delivery(zone: DeliveryZone, subtotal: Decimal) -> DeliveryQuote:
    return DeliveryQuote(zone=zone, subtotal=subtotal, fee=delivery_fee(zone, subtotal))


def active_zones() -> list[DeliveryZone]:
    return list(
        db.session.scalars(
            select(DeliveryZone)
            .where(DeliveryZone.is_active.is_(True))
            .order_by(DeliveryZone.fee, DeliveryZone.name)
        )
    )


# Addresses --------------------------------------------------------------------------
def addresses_of(user: User) -> list[Address]:
    return list(
        db.session.scalars(
            select(Address)
            .where(Address.user_id == user.id)
            .options(joinedload(Address.delivery_zone))
            .order_by(Address.is_default.desc(), Address.id)
        )
    )


# Checkout's statements are built once (``functools.cache``): building a statement and
# its cache key on every request costs more CPU than running it.
@functools.cache
def _address_statement() -> Select:
    """An address with its zone."""
    return (
        select(Address)
        .where(Address.id == bindparam("address_id"))
        .options(joinedload(Address.delivery_zone))
    )


def find_address(user: User, address_id: int) -> Address:
    address = db.session.scalar(_address_statement(), {"address_id": address_id})
    if address is None or address.user_id != user.id:
        raise NotFound("Address not found", details={"address_id": address_id})
    return address


def _make_default(address: Address) -> None:
    """Clear the customer's default first (the unique index allows only one), then set it."""
    db.session.execute(
        update(Address)
        .where(Address.user_id == address.user_id, Address.is_default.is_(True))
        .values(is_default=False)
    )
    address.is_default = True


def create_address(user: User, data: dict) -> Address:
    data = dict(data)
    zone = active_zone(data.pop("delivery_zone_id"))
    wants_default = data.pop("is_default", False)
    first = db.session.scalar(select(Address.id).where(Address.user_id == user.id).limit(1)) is None
    address = Address(user_id=user.id, delivery_zone=zone, is_default=False, **data)
    if wants_default or first:
        _make_default(address)
    db.session.add(address)
    db.session.flush()
    return address


def update_address(address: Address, data: dict) -> Address:
    data = dict(data)
    if "delivery_zone_id" in data:
        address.delivery_zone = active_zone(data.pop("delivery_zone_id"))
    wants_default = data.pop("is_default", None)
    for name, value in data.items():
        setattr(address, name, value)
    if wants_default:
        _make_default(address)
    elif wants_default is False:
        address.is_default = False
    db.session.flush()
    return address


def delete_address(address: Address) -> None:
    """Delete it (orders keep their snapshot); a deleted default passes to the newest one."""
    was_default, user_id = address.is_default, address.user_id
    db.session.execute(
        update(Order).where(Order.address_id == address.id).values(address_id=None)
    )  # as ON DELETE SET NULL does, also where SQLite does not enforce foreign keys
    db.session.delete(address)
    db.session.flush()
    if was_default:
        successor = db.session.scalar(
            select(Address)
            .where(Address.user_id == user_id)
            .order_by(Address.created_at.desc(), Address.id.desc())
            .limit(1)
        )
        if successor is not None:
            successor.is_default = True
            db.session.flush()


# Checkout ---------------------------------------------------------------------------
def new_order_number() -> str:
    """``QG-YYYYMMDD-XXXXXX``: the UTC date and six random characters (~10^9 a day)."""
    suffix = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))
    return f"QG-{utcnow():%Y%m%d}-{suffix}"


def _is_order_number_clash(error: IntegrityError) -> bool:
    # PostgreSQL names the constraint (uq_orders_order_number), SQLite the column.
    return "order_number" in str(error.orig)


class CheckoutProduct(NamedTuple):
    """What checkout reads of a product: its stock and what an order line snapshots."""

    id: int
    name: str
    sku: str | None
    price: Decimal
    stock: int
    is_active: bool
    supplier_id: int
    effective_commission_rate: Decimal


@functools.cache
def _products_statement() -> Select:
    """The columns checkout reads of the products ``ids`` (on the tables: see
    ``_take_stock_statement``)."""
    products, categories = Product.__table__, Category.__table__
    return (
        select(
            products.c.id,
            products.c.name,
            products.c.sku,
            products.c.price,
            products.c.stock,
            products.c.is_active,
            products.c.supplier_id,
            products.c.commission_rate,
            categories.c.commission_rate,
        )
        .outerjoin(categories, categories.c.id == products.c.category_id)
        .where(products.c.id.in_(bindparam("ids", expanding=True)))
    )


def _read_products(product_ids: list[int]) -> dict[int, CheckoutProduct]:
    """The products as committed now, unlocked: what the order snapshots and pre-checks.

    Plain rows, not entities: checkout only reads them (loading entities costs more CPU
    than the query)."""
    rows = db.session.execute(_products_statement(), {"ids": product_ids})
    products = {}
    for id_, name, sku, price, stock, active, supplier_id, own_rate, category_rate in rows:
        rate = commission_rate(own_rate, category_rate)
        products[id_] = CheckoutProduct(id_, name, sku, price, stock, active, supplier_id, rate)
    return products


@functools.cache
def _take_stock_statement(lines: int) -> Update:
    """``_take_stock``'s statement for ``lines`` products, built once per number of
    lines; the products and quantities are bound as ``id0``, ``q0``, ... It is written
    on the table, not the entity: no loaded object needs it, and the ORM's handling of an
    update statement costs more CPU than the statement itself."""
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
            products.c.is_active.is_(True),
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
    are active and still hold enough; under READ COMMITTED PostgreSQL re-checks that on
    the newest version of a row a concurrent transaction changed, so it never oversells.
    A row left out is a shortfall, reported with the stock as re-read now; the rows
    already decremented are undone by the caller's rollback. SQLite ignores FOR UPDATE:
    it runs one writer at a time anyway.
    """
    params = {}
    for n, (id_, quantity) in enumerate(quantities.items()):
        params[f"id{n}"], params[f"q{n}"] = id_, quantity
    statement = _take_stock_statement(len(quantities))
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
        "available": product.stock if product is not None and product.is_active else 0,
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
    """A line with today's price, commission rate and supplier frozen into it."""
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
        commission_amount=(line_total * rate).quantize(CENTS, rounding=ROUND_HALF_UP),
    )


def place_order(
    customer: User,
    *,
    address: Address,
    zone: DeliveryZone | None,
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
    zone: DeliveryZone | None,
    payment_method: PaymentMethod,
    notes: str | None,
) -> Order:
    zone = zone or address.delivery_zone
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
    cod_limit = Decimal(current_app.config["COD_MAX_TOTAL"])
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

    send_email_after_commit(
        customer.email,
        f"Order {order.order_number} received",
        "order_confirmation",
        order=order,
        customer=customer,
    )
    _take_stock(quantities)
    attach_persistent(db.session, rows)
    return order


# Status changes ---------------------------------------------------------------------
def _notify_status(order: Order, note: str | None = None) -> None:
    send_email_after_commit(
        order.customer.email,
        f"Order {order.order_number}: {order.status.replace('_', ' ').title()}",
        "order_status",
        order=order,
        customer=order.customer,
        note=note,
    )


SUPPLIER_STATUSES = frozenset({OrderStatus.PROCESSING, OrderStatus.QUALITY_APPROVED})


def check_supplier_may_set(order: Order, supplier_id: int, status: OrderStatus) -> None:
    """Suppliers move only orders made entirely of their items, only to these statuses."""
    if status not in SUPPLIER_STATUSES:
        raise Forbidden(
            "Suppliers may only move orders to PROCESSING or QUALITY_APPROVED",
            details={"allowed": sorted(SUPPLIER_STATUSES)},
        )
    if any(item.supplier_id != supplier_id for item in order.items):
        raise Forbidden("This order also holds other suppliers' items; an admin moves it")


def set_status(order: Order, status: OrderStatus, *, actor_id: int, note: str | None) -> Order:
    """An admin or supplier moves the order along the table (cancelling returns stock)."""
    if status == OrderStatus.CANCELLED:
        return cancel_order(order, actor_id=actor_id, reason=note or "Cancelled by staff")
    if status == OrderStatus.PAID:
        raise InvalidTransition(
            "An order becomes PAID when its payment completes; use PUT /orders/<id>/payment",
            details={"from": str(order.status), "to": str(status)},
        )
    change_status(order, status, actor_id=actor_id, note=note)
    _notify_status(order, note)
    return order


def set_payment_status(
    order: Order, payment_status: PaymentStatus, *, actor_id: int, note: str | None
) -> Order:
    """A finance admin records a payment outcome; a completed payment pays a pending order."""
    change_payment_status(order, payment_status, actor_id=actor_id, note=note)
    if payment_status == PaymentStatus.COMPLETED:
        order.paid_at = order.paid_at or utcnow()
        if order.status == OrderStatus.PENDING and order.payment_method != PaymentMethod.CASH:
            change_status(order, OrderStatus.PAID, actor_id=actor_id, note=note)
            _notify_status(order, note)
    db.session.flush()
    return order


# Cancellation -----------------------------------------------------------------------
def release_stock(order: Order) -> None:
    """Put the order's quantities back on the shelf, in product-id order."""
    quantities: dict[int, int] = {}
    for item in order.items:
        quantities[item.product_id] = quantities.get(item.product_id, 0) + item.quantity
    for product_id in sorted(quantities):
        db.session.execute(
            update(Product)
            .where(Product.id == product_id)
            .values(
                stock=Product.stock + quantities[product_id],
                sold_count=Product.sold_count - quantities[product_id],
            )
            .execution_options(synchronize_session=False)
        )


def cancel_order(order: Order, *, actor_id: int | None, reason: str) -> Order:
    """Cancel a PENDING/PAID/PROCESSING order: stock back once, a refund due if it was paid.

    Takes the order's row lock and re-reads it, so of two concurrent cancellations (or a
    cancellation and the expiry job) exactly one succeeds; the other gets 409.
    """
    order = lock_order(order.id)
    if order.status not in CANCELLABLE:
        raise InvalidTransition(
            f"An order that is {order.status} cannot be cancelled",
            details={"from": str(order.status), "to": str(OrderStatus.CANCELLED)},
        )
    change_status(order, OrderStatus.CANCELLED, actor_id=actor_id, note=reason)
    order.cancellation_reason = reason
    release_stock(order)
    if order.payment_status == PaymentStatus.COMPLETED:
        record_refund_due(order, reason=reason, requested_by_id=actor_id)
    db.session.flush()
    _notify_status(order, reason)
    return order
