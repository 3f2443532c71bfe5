"""Uploads follow what uses them: a product's images, a deleted product's files."""

from __future__ import annotations

from app.catalog.models import Product
from app.signals import product_deleting, product_images_set
from app.uploads.operations import delete_attached, sync_product_images


@product_deleting.connect
def delete_product_images(product: Product, **_) -> None:
    """Inside the deletion's savepoint: kept (deactivated) products keep their files."""
    delete_attached(f"product:{product.id}")


@product_images_set.connect
def attach_product_images(product: Product, *, images: list[str], **_) -> None:
    sync_product_images(product.id, images)
