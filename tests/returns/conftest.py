"""Returns test helpers: a shop of two suppliers' products and a delivered order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.auth.models import UserRole
from tests.factories.catalog import ProductFactory
from tests.factories.orders import DeliveryZoneFactory
from tests.factories.returns import delivered_order

IMAGE = "https://res.cloudinary.com/qg/image/upload/v1/returns/broken.jpg"


@pytest.fixture
def shop(supplier, role_user):
    """Two suppliers: ``supplier``'s phone (KES 1,499.99 x stock 10, 12 months' warranty)
    and another supplier's laptop (KES 60,000.00)."""
    other = role_user(UserRole.SUPPLIER)
    return {
        "zone": DeliveryZoneFactory(fee=Decimal("250.00")),
        "phone": ProductFactory(
            supplier=supplier.supplier_profile, price=Decimal("1499.99"), stock=10
        ),
        "laptop": ProductFactory(
            supplier=other.supplier_profile, price=Decimal("60000.00"), stock=3
        ),
        "other_supplier": other,
    }


@pytest.fixture
def order(customer, shop):
    """Delivered today, paid by M-Pesa: 2 phones and 1 laptop."""
    return delivered_order(customer, [(shop["phone"], 2), (shop["laptop"], 1)])


@pytest.fixture
def admin_as(auth_headers, role_user):
    """``admin_as(UserRole.SUPPORT_ADMIN)`` -> headers of a new user with that role."""
    return lambda role=UserRole.ADMIN: auth_headers(role_user(role))
