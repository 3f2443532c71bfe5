"""Reviews of products their customers received, and the exact rating they sum to."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.catalog.models import Product, Review
from app.catalog.products import get_listed_product
from app.catalog.visibility import listed
from app.common.audit import record_audit
from app.errors import Conflict, Forbidden, NotFound
from app.extensions import db
from app.money import CENTS
from app.pagination import Page, paginate
from app.signals import product_received_asked


def _lock_product(product_id: int) -> Product:
    """The listed product, locked so concurrent reviews recompute its rating in turn."""
    product = db.session.scalar(
        select(Product).where(Product.id == product_id, *listed()).with_for_update(of=Product)
    )
    if product is None:
        raise NotFound("Product not found")
    return product


def refresh_rating(product: Product) -> None:
    """Recompute the product's rating from its reviews (exact, never incremental drift)."""
    db.session.flush()
    count, total = db.session.execute(
        select(func.count(Review.id), func.coalesce(func.sum(Review.rating), 0)).where(
            Review.product_id == product.id
        )
    ).one()
    product.rating_count = count
    product.rating_sum = int(total)
    product.rating_average = (
        (Decimal(int(total)) / count).quantize(CENTS) if count else Decimal("0.00")
    )


def has_received(user: User, product_id: int) -> bool:
    """Whether the product was delivered to the user (orders answer
    ``product_received_asked``)."""
    answers = product_received_asked.send(product_id, user_id=user.id)
    return any(answer for _, answer in answers)


def add_review(product_id: int, user: User, data: dict[str, Any]) -> Review:
    product = _lock_product(product_id)
    if not has_received(user, product.id):
        raise Forbidden(
            "You can review a product once it has been delivered to you", code="NOT_PURCHASED"
        )
    if db.session.scalar(
        select(exists().where(Review.product_id == product.id, Review.user_id == user.id))
    ):
        raise Conflict("You have already reviewed this product", code="ALREADY_REVIEWED")
    review = Review(product=product, user=user, **data)
    db.session.add(review)
    refresh_rating(product)
    return review


def get_review(product_id: int, review_id: int, user: User | None = None) -> Review:
    """A review of that product; with ``user``, only that user's own review."""
    review = db.session.get(Review, review_id)
    if (
        review is None
        or review.product_id != product_id
        or (user is not None and review.user_id != user.id)
    ):
        raise NotFound("Review not found")
    return review


def update_review(review: Review, data: dict[str, Any]) -> Review:
    product = _lock_product(review.product_id)
    for field, value in data.items():
        setattr(review, field, value)
    refresh_rating(product)
    return review


def delete_review(review: Review, actor: User) -> None:
    product = _lock_product(review.product_id)
    if review.user_id != actor.id:
        record_audit(
            "review.removed",
            review,
            details={"product_id": review.product_id, "rating": review.rating},
        )
    db.session.delete(review)
    refresh_rating(product)


def list_reviews(product_id: int, params: dict[str, Any]) -> Page:
    get_listed_product(product_id)
    statement = (
        select(Review)
        .where(Review.product_id == product_id)
        .options(joinedload(Review.user))
        .order_by(Review.created_at.desc(), Review.id.desc())
    )
    return paginate(statement, params)
