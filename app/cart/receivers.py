"""The cart's receivers: a deleted product leaves the carts."""

from __future__ import annotations

from sqlalchemy import delete

from app.cart.models import CartItem
from app.catalog.models import Product
from app.extensions import db
from app.signals import product_deleting


@product_deleting.connect
def drop_cart_lines(product: Product, **_) -> None:
    db.session.execute(delete(CartItem).where(CartItem.product_id == product.id))
