"""Catalog factories: ``ProductFactory(price=Decimal("1500.00"), stock=3)``."""

from decimal import Decimal

import factory

from app.catalog.models import Brand, Category, Product, ProductCondition
from tests.factories.auth import SupplierProfileFactory
from tests.factories.base import Factory


class CategoryFactory(Factory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    suggested_specs = factory.LazyFunction(dict)

    class Params:
        inactive = factory.Trait(is_active=False)


class BrandFactory(Factory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")

    class Params:
        inactive = factory.Trait(is_active=False)


class ProductFactory(Factory):
    class Meta:
        model = Product

    supplier = factory.SubFactory(SupplierProfileFactory)
    category = factory.SubFactory(CategoryFactory)
    brand = factory.SubFactory(BrandFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    sku = factory.Sequence(lambda n: f"SKU-{n:06d}")
    description = "A dependable gadget."
    price = Decimal("1000.00")
    stock = 10
    condition = ProductCondition.NEW
    warranty_months = 12
    images = factory.LazyFunction(lambda: ["https://cdn.example.com/p.jpg"])
    specs = factory.LazyFunction(dict)

    class Params:
        inactive = factory.Trait(is_active=False)
        out_of_stock = factory.Trait(stock=0)
        refurbished = factory.Trait(condition=ProductCondition.REFURBISHED)
