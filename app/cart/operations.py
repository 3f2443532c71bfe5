"""Cart rules: one cart per customer, quantities within stock, exact Decimal totals."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Delete, Select, bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.cart.models import Cart, CartItem
from app.catalog.models import Product
from app.catalog.visibility import listed
from app.errors import InsufficientStock, NotFound, Unprocessable
from app.extensions import db
from app.money import ensure_storable

CART_MAX_LINES = 50  # distinct products in one cart (checkout builds a statement per count)


def _with_items(statement):
    product = selectinload(Cart.items).joinedload(CartItem.product)
    return statement.options(
        product.joinedload(Product.category),
        product.joinedload(Product.brand),
        product.joinedload(Product.supplier),
    )


def find_cart(user_id: int) -> Cart:
    """The customer's cart with its items and products, or an empty unsaved one (reads only)."""
    cart = db.session.scalar(_with_items(select(Cart).where(Cart.user_id == user_id)))
    return cart or Cart(user_id=user_id, items=[])


def lock_cart(user_id: int) -> Cart:
    """The customer's cart, created on first use, row-locked until commit.

    Every change to a cart takes this lock first, so two requests of one customer (two
    tabs, a double click on "checkout") are applied one after the other.
    """
    statement = select(Cart).where(Cart.user_id == user_id).with_for_update(of=Cart)
    # The lines are read by a second statement, after the lock is granted: joined to the
    # locking one, they would come from its snapshot, taken before a concurrent checkout
    # of the same cart emptied it (PostgreSQL re-reads only the locked row).
    statement = _with_items(statement).execution_options(populate_existing=True)
    cart = db.session.scalar(statement)
    if cart is not None:
        return cart
    try:
        with db.session.begin_nested():
            db.session.add(Cart(user_id=user_id))
    except IntegrityError:  # created by a concurrent request of the same customer
        pass
    return db.session.scalar(statement)


@functools.cache
def _take_lines_statements() -> tuple[Select, Delete]:
    """``take_lines``' two statements, built once: building them and their cache keys
    on every checkout costs more than running them. On the tables, not the entities:
    nothing is loaded as an object, so the ORM's statement handling would be pure cost."""
    carts, items = Cart.__table__, CartItem.__table__
    lock = select(carts.c.id).where(carts.c.user_id == bindparam("user_id")).with_for_update()
    empty = (
        delete(items)
        .where(items.c.cart_id == bindparam("cart_id"))
        .returning(items.c.product_id, items.c.quantity)
    )
    return lock, empty


def take_lines(user_id: int) -> dict[int, int]:
    """Lock the customer's cart and empty it, returning ``{product_id: quantity}``.

    Checkout's read of the cart: it takes the same lock as ``lock_cart`` (a second
    checkout of the cart waits, then finds it empty), then reads and deletes the lines
    in one statement, after the lock is granted (see ``lock_cart``), without loading
    them as objects. A rollback puts them back.
    """
    lock, empty = _take_lines_statements()
    cart_id = db.session.scalar(lock, {"user_id": user_id})
    if cart_id is None:
        return {}
    return dict(db.session.execute(empty, {"cart_id": cart_id}).all())


def count_items(user_id: int) -> dict[str, int]:
    quantity, lines = db.session.execute(
        select(func.coalesce(func.sum(CartItem.quantity), 0), func.count(CartItem.id))
        .join(Cart, Cart.id == CartItem.cart_id)
        .where(Cart.user_id == user_id)
    ).one()
    return {"item_count": int(quantity), "line_count": lines}


def _purchasable_product(product_id: int) -> Product:
    """The product if it is listed (active, of an approved supplier), else a 404 as in the
    catalogue."""
    product = db.session.scalar(select(Product).where(Product.id == product_id, *listed()))
    if product is None:
        raise NotFound("Product not found", details={"product_id": product_id})
    return product


def _listed_ids(product_ids: list[int]) -> set[int]:
    if not product_ids:
        return set()
    statement = select(Product.id).where(Product.id.in_(product_ids), *listed())
    return set(db.session.scalars(statement))


def _check_stock(product: Product, quantity: int) -> None:
    if quantity > product.stock:
        message = (
            f"Only {product.stock} left in stock for '{product.name}'"
            if product.stock
            else f"'{product.name}' is out of stock"
        )
        raise InsufficientStock(
            message,
            details={"product_id": product.id, "available": product.stock, "requested": quantity},
        )


def add_item(cart: Cart, product_id: int, quantity: int) -> bool:
    """Add ``quantity`` of a product (merging with its line); True when a line was created."""
    product = _purchasable_product(product_id)
    line = next((item for item in cart.items if item.product_id == product_id), None)
    if line is None and len(cart.items) >= CART_MAX_LINES:
        raise Unprocessable(
            f"A cart holds at most {CART_MAX_LINES} different products",
            code="CART_FULL",
            details={"max_lines": CART_MAX_LINES},
        )
    _check_stock(product, quantity + (line.quantity if line else 0))
    ensure_storable(cart.subtotal + product.price * quantity, "The cart's total")
    if line is None:
        cart.items.append(
            CartItem(product=product, quantity=quantity, price_when_added=product.price)
        )
    else:
        line.quantity += quantity
        line.price_when_added = product.price  # the customer has just seen today's price
    db.session.flush()
    return line is None


def find_line(cart: Cart, item_id: int) -> CartItem:
    line = next((item for item in cart.items if item.id == item_id), None)
    if line is None:
        raise NotFound("Cart item not found")
    return line


def set_quantity(cart: Cart, item_id: int, quantity: int) -> Cart:
    line = find_line(cart, item_id)
    product = _purchasable_product(line.product_id)
    _check_stock(product, quantity)
    ensure_storable(cart.subtotal + product.price * (quantity - line.quantity), "The cart's total")
    line.quantity = quantity
    line.price_when_added = line.product.price
    db.session.flush()
    return cart


def remove_item(cart: Cart, item_id: int) -> Cart:
    cart.items.remove(find_line(cart, item_id))
    db.session.flush()
    return cart


def clear(cart: Cart) -> Cart:
    cart.items.clear()
    db.session.flush()
    return cart


@dataclass
class LineCheck:
    """What changed for one cart line since it was added."""

    item: CartItem
    issues: list[str] = field(default_factory=list)

    @property
    def product(self) -> Product:
        return self.item.product

    @property
    def price_change(self) -> Decimal:
        return self.product.price - self.item.price_when_added


@dataclass
class CartCheck:
    lines: list[LineCheck]
    subtotal: Decimal

    @property
    def valid(self) -> bool:
        return bool(self.lines) and not any(line.issues for line in self.lines)


PRICE_CHANGED, INSUFFICIENT_STOCK, UNAVAILABLE = (
    "PRICE_CHANGED",
    "INSUFFICIENT_STOCK",
    "UNAVAILABLE",
)


def validate(cart: Cart) -> CartCheck:
    """Per line: a price change since it was added, a stock shortfall, a product no longer
    listed (inactive, or its supplier's approval withdrawn)."""
    listed_ids = _listed_ids([item.product_id for item in cart.items])
    lines = []
    for item in cart.items:
        check = LineCheck(item)
        if item.product_id not in listed_ids:
            check.issues.append(UNAVAILABLE)
        elif item.quantity > item.product.stock:
            check.issues.append(INSUFFICIENT_STOCK)
        if check.price_change:
            check.issues.append(PRICE_CHANGED)
        lines.append(check)
    return CartCheck(lines=lines, subtotal=cart.subtotal)
