"""Order rules: addresses, status changes and cancellation (checkout: ``checkout.py``).

Cancellation puts stock back, locking product rows in primary-key order like checkout.
"""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import joinedload

from app.auth.models import User, UserRole
from app.catalog.models import Product
from app.delivery.models import DeliveryZone
from app.delivery.operations import active_zone, covers
from app.errors import InvalidTransition, NotFound, Unprocessable, ValidationFailed
from app.extensions import db
from app.orders.models import (
    Address,
    Order,
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
)
from app.orders.state import change_payment_status, change_status, lock_order
from app.signals import order_cancelled

CANCELLABLE = frozenset({OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PROCESSING})


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


def _check_zone_covers(zone: DeliveryZone, county: str) -> None:
    """An address's zone must deliver to its county: the zone sets the order's fee."""
    if not covers(zone, county):
        raise ValidationFailed(
            details={"delivery_zone_id": [f"{zone.name} does not deliver to {county}."]}
        )


def create_address(user: User, data: dict) -> Address:
    data = dict(data)
    zone = active_zone(data.pop("delivery_zone_id"))
    _check_zone_covers(zone, data["county"])
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
    moved = "delivery_zone_id" in data or "county" in data
    if "delivery_zone_id" in data:
        address.delivery_zone = active_zone(data.pop("delivery_zone_id"))
    wants_default = data.pop("is_default", None)
    for name, value in data.items():
        setattr(address, name, value)
    if moved:
        _check_zone_covers(address.delivery_zone, address.county)
    if wants_default:
        _make_default(address)
    elif wants_default is False:
        address.is_default = False
    db.session.flush()
    return address


def checkout_zone(address: Address, zone_id: int | None) -> DeliveryZone:
    """The order's zone, which is its address's: 422 ``ZONE_MISMATCH`` for another one
    asked for (404 if there is no such active zone), or for an address saved before its
    zone had to cover its county and whose zone does not."""
    zone = address.delivery_zone
    if zone_id is not None and active_zone(zone_id).id != zone.id:
        raise Unprocessable(
            "Delivery is charged for the address's zone; choose an address in that zone",
            code="ZONE_MISMATCH",
            details={"delivery_zone_id": zone_id, "address_delivery_zone_id": zone.id},
        )
    if not covers(zone, address.county):
        raise Unprocessable(
            f"{zone.name} does not deliver to {address.county}; update the address's zone",
            code="ZONE_MISMATCH",
            details={"county": address.county, "address_delivery_zone_id": zone.id},
        )
    return zone


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


# Status changes ---------------------------------------------------------------------
def set_status(order: Order, status: OrderStatus, *, actor: User, note: str | None) -> Order:
    """Move the order along the table (cancelling returns stock); who may is checked by
    the caller (``state.check_may_move``)."""
    if status == OrderStatus.CANCELLED:
        return cancel_order(order, actor_id=actor.id, reason=note or default_reason(actor))
    if status == OrderStatus.PAID:
        raise InvalidTransition(
            "An order becomes PAID when its payment completes; use PUT /orders/<id>/payment",
            details={"from": str(order.status), "to": str(status)},
        )
    return change_status(order, status, actor_id=actor.id, note=note)


def set_payment_status(
    order: Order, payment_status: PaymentStatus, *, actor_id: int, note: str | None
) -> Order:
    """A finance admin records a payment outcome; a completed payment pays a pending order.

    A cancelled order is never marked paid by hand: its stock is back on the shelf and
    nothing would make a refund due (money that does reach one arrives as a payment,
    which the payments domain flags and owes back).
    """
    if payment_status == PaymentStatus.COMPLETED and order.status == OrderStatus.CANCELLED:
        raise InvalidTransition(
            "A cancelled order cannot be marked paid",
            details={
                "status": str(order.status),
                "from": str(order.payment_status),
                "to": str(payment_status),
            },
        )
    change_payment_status(order, payment_status, actor_id=actor_id, note=note, via="ADMIN")
    if (
        payment_status == PaymentStatus.COMPLETED
        and order.status == OrderStatus.PENDING
        and order.payment_method != PaymentMethod.CASH
    ):
        change_status(order, OrderStatus.PAID, actor_id=actor_id, note=note, via="ADMIN")
    return order


# Cancellation -----------------------------------------------------------------------
def default_reason(actor: User) -> str:
    return "Cancelled by the customer" if actor.role == UserRole.CUSTOMER else "Cancelled by staff"


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
    """Cancel a PENDING/PAID/PROCESSING order: stock back once; ``order_cancelled`` tells
    the payments domain to owe a paid order's money back.

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
    db.session.flush()
    was_paid = order.payment_status == PaymentStatus.COMPLETED
    order_cancelled.send(order, actor_id=actor_id, reason=reason, was_paid=was_paid)
    return order
