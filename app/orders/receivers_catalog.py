"""Orders' answers to the catalog: a product that orders reference is kept, and whether
a customer received a product."""

from __future__ import annotations

from sqlalchemy import exists, select

from app.catalog.models import Product
from app.errors import Conflict
from app.extensions import db
from app.orders.models import Order, OrderItem, OrderStatus
from app.signals import product_deleting, product_received_asked


@product_deleting.connect
def keep_ordered_products(product: Product, **_) -> None:
    if db.session.scalar(select(exists().where(OrderItem.product_id == product.id))):
        raise Conflict("Orders reference this product", code="PRODUCT_ORDERED")


@product_received_asked.connect
def was_delivered(product_id: int, *, user_id: int, **_) -> bool:
    return bool(
        db.session.scalar(
            select(
                exists()
                .where(OrderItem.product_id == product_id, OrderItem.order_id == Order.id)
                .where(Order.customer_id == user_id, Order.status == OrderStatus.DELIVERED)
            )
        )
    )
