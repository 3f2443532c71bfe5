import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.auth.accounts import set_supplier_status
from app.auth.models import SupplierStatus, User
from app.cart.models import CartItem
from app.cart.operations import CART_MAX_LINES
from app.catalog.models import Product
from app.catalog.visibility import current_dialect
from app.db import utcnow
from app.errors import InsufficientStock
from app.notifications.models import OutboxEmail
from app.orders import checkout as checkout_module
from app.orders.models import Address, Order, OrderItem, PaymentMethod
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.orders import DeliveryZoneFactory, OrderFactory


def stock_of(db, product):
    return db.session.scalar(select(Product.stock).where(Product.id == product.id))


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_checkout_snapshots_prices_decrements_stock_and_empties_the_cart(
    client, checkout, fill_cart, customer, db, zone
):
    category = CategoryFactory(commission_rate=Decimal("0.0750"))
    phone = ProductFactory(price=Decimal("24999.99"), stock=5, category=category)
    case = ProductFactory(price=Decimal("333.33"), stock=10, commission_rate=Decimal("0.1500"))
    fill_cart((phone, 2), (case, 3))

    response = checkout("MPESA", notes="Call at the gate")

    assert response.status_code == 201, response.json
    assert response.json["message"] == "Order created"
    data = response.json["data"]
    assert re.fullmatch(rf"QG-{utcnow():%Y%m%d}-[A-Z2-9]{{6}}", data["order_number"])
    assert (data["status"], data["payment_status"], data["payment_method"]) == (
        "PENDING",
        "PENDING",
        "MPESA",
    )
    assert data["subtotal"] == "50999.97"
    assert data["delivery_fee"] == "250.00"
    assert data["total"] == "51249.97"
    assert data["currency"] == "KES"
    assert data["notes"] == "Call at the gate"
    assert data["recipient_phone"] == "254712345678"
    assert data["delivery_zone"] == {"id": zone.id, "name": zone.name}
    items = {item["product_id"]: item for item in data["items"]}
    assert items[phone.id]["unit_price"] == "24999.99"
    assert items[phone.id]["line_total"] == "49999.98"
    assert items[phone.id]["supplier_id"] == phone.supplier_id
    assert "commission_amount" not in items[phone.id]  # customers do not see commissions
    assert [h["to_status"] for h in data["history"]] == ["PENDING"]
    due = data["payment_due_at"]
    assert due.endswith("Z")

    order = db.session.get(Order, data["id"])
    rows = {item.product_id: item for item in order.items}
    assert rows[phone.id].commission_rate == Decimal("0.0750")
    assert rows[phone.id].commission_amount == Decimal("3749.998500").quantize(Decimal("0.01"))
    assert rows[case.id].commission_rate == Decimal("0.1500")
    assert rows[case.id].commission_amount == Decimal("150.00")
    assert order.payment_due_at - order.created_at == pytest.approx(
        timedelta(minutes=30), abs=timedelta(seconds=5)
    )
    assert (stock_of(db, phone), stock_of(db, case)) == (3, 7)
    assert count(db, CartItem) == 0
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == customer.email))
    assert data["order_number"] in email.subject
    assert "51249.97" in email.body_text


def test_prices_are_reread_at_checkout(checkout, fill_cart, db):
    product = ProductFactory(price=Decimal("1000.00"))
    fill_cart((product, 1))
    product.price = Decimal("900.00")
    db.session.commit()

    data = checkout().json["data"]

    assert data["items"][0]["unit_price"] == "900.00"
    assert data["subtotal"] == "900.00"


def test_empty_cart_is_422(checkout):
    response = checkout()
    assert response.status_code == 422
    assert response.json["error"]["code"] == "CART_EMPTY"


def test_shortfall_names_every_short_product_and_writes_nothing(checkout, fill_cart, db):
    plenty = ProductFactory(stock=10)
    scarce = ProductFactory(stock=3, name="Pixel 9")
    gone = ProductFactory(stock=5, name="Old Tab")
    fill_cart((plenty, 2), (scarce, 2), (gone, 1))
    scarce.stock = 1
    gone.is_active = False
    db.session.commit()

    response = checkout()

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "INSUFFICIENT_STOCK"
    assert error["details"]["items"] == [
        {"product_id": scarce.id, "name": "Pixel 9", "requested": 2, "available": 1},
        {"product_id": gone.id, "name": "Old Tab", "requested": 1, "available": 0},
    ]
    assert "Pixel 9" in response.json["message"] and "Old Tab" in response.json["message"]
    db.session.expire_all()
    assert (stock_of(db, plenty), stock_of(db, scarce)) == (10, 1)
    assert count(db, Order) == 0 and count(db, OrderItem) == 0
    assert count(db, CartItem) == 3


def test_cash_is_refused_above_the_limit_and_has_no_payment_deadline(
    app, checkout, fill_cart, db, monkeypatch
):
    monkeypatch.setitem(app.config, "COD_MAX_TOTAL", 1000)
    product = ProductFactory(price=Decimal("750.00"), stock=5)
    fill_cart((product, 1))

    refused = checkout("CASH")  # 750 + 250 delivery = 1000: at the limit, allowed
    assert refused.status_code == 201
    assert refused.json["data"]["payment_due_at"] is None

    fill_cart((product, 2))
    response = checkout("CASH")
    assert response.status_code == 422
    assert response.json["error"]["code"] == "COD_LIMIT_EXCEEDED"
    assert response.json["error"]["details"] == {"limit": "1000.00", "total": "1750.00"}
    assert stock_of(db, product) == 4
    assert checkout("CARD").status_code == 201


def test_the_address_zone_fee_and_free_delivery(checkout, fill_cart, address, db):
    far = DeliveryZoneFactory(
        fee=Decimal("800.00"), estimated_days=4, free_delivery_threshold=Decimal("2000.00")
    )
    address.delivery_zone = far  # the order's zone is its address's (ZONE_MISMATCH otherwise)
    db.session.commit()
    fill_cart((ProductFactory(price=Decimal("1999.99")), 1))
    data = checkout(delivery_zone_id=far.id).json["data"]
    assert (data["delivery_fee"], data["total"], data["estimated_delivery_days"]) == (
        "800.00",
        "2799.99",
        4,
    )

    fill_cart((ProductFactory(price=Decimal("2000.00")), 1))
    data = checkout(delivery_zone_id=far.id).json["data"]
    assert (data["delivery_fee"], data["total"]) == ("0.00", "2000.00")


def test_foreign_address_unknown_zone_and_bad_types(
    client, checkout, fill_cart, customer_headers, zone
):
    from tests.factories.orders import AddressFactory

    fill_cart((ProductFactory(), 1))
    foreign = AddressFactory(delivery_zone=zone)
    assert checkout(address_id=foreign.id).status_code == 404
    assert checkout(delivery_zone_id=99999).status_code == 404
    for body in (
        {"payment_method": "BITCOIN"},
        {"address_id": "one"},
        {"total": "1.00"},
        {"address_id": 2**31},
        {"delivery_zone_id": 10**30},
    ):
        response = checkout(**body)
        assert response.status_code == 400, body
        assert response.json["error"]["code"] == "VALIDATION_ERROR"


def test_the_order_keeps_street_and_landmark_each_at_full_length(
    checkout, fill_cart, customer, zone
):
    """Each address field fits its own order column (PostgreSQL refused a joined copy)."""
    from tests.factories.orders import AddressFactory

    fill_cart((ProductFactory(stock=5), 1))
    address = AddressFactory(
        user_id=customer.id, delivery_zone=zone, street="S" * 255, landmark="L" * 255
    )
    response = checkout(address_id=address.id)
    assert response.status_code == 201
    data = response.json["data"]
    assert (data["delivery_street"], data["delivery_landmark"]) == ("S" * 255, "L" * 255)


def test_only_customers_check_out(client, supplier_headers):
    response = client.post(
        "/api/orders", json={"address_id": 1, "payment_method": "MPESA"}, headers=supplier_headers
    )
    assert response.status_code == 403


def test_idempotency_key_replays_the_first_order(checkout, fill_cart, customer_headers, db):
    product = ProductFactory(stock=5)
    fill_cart((product, 2))
    headers = {**customer_headers, "Idempotency-Key": "checkout-42"}

    first = checkout(headers=headers)
    again = checkout(headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert count(db, Order) == 1
    assert stock_of(db, product) == 3
    different = checkout("CARD", headers=headers)
    assert different.status_code == 422
    assert different.json["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_an_order_number_collision_draws_a_new_number(checkout, fill_cart, monkeypatch):
    taken = OrderFactory(order_number="QG-20261123-AAAAAA")
    numbers = iter([taken.order_number, "QG-20261123-BBBBBB"])
    monkeypatch.setattr(checkout_module, "new_order_number", lambda: next(numbers))
    fill_cart((ProductFactory(), 1))

    response = checkout()

    assert response.status_code == 201
    assert response.json["data"]["order_number"] == "QG-20261123-BBBBBB"


def test_an_order_refused_at_the_stock_take_never_joins_the_session(
    app, customer, address, fill_cart, db, monkeypatch
):
    product = ProductFactory(stock=4)
    fill_cart((product, 2))

    def sold_out(quantities):
        raise checkout_module._insufficient_stock([{"name": product.name, "available": 0}])

    monkeypatch.setattr(checkout_module, "_take_stock", sold_out)
    with app.test_request_context():
        delivery_address = db.session.get(Address, address.id)
        with pytest.raises(InsufficientStock):
            checkout_module.place_order(
                db.session.get(User, customer.id),
                address=delivery_address,
                zone=delivery_address.delivery_zone,
                payment_method=PaymentMethod.MPESA,
            )
        assert not [row for row in db.session if isinstance(row, Order | OrderItem)]
        db.session.rollback()
    assert (count(db, Order), count(db, OrderItem), stock_of(db, product)) == (0, 0, 4)


def test_checkout_reads_the_products_columns_by_name(app, db, monkeypatch):
    category = CategoryFactory(commission_rate=Decimal("0.0500"))
    product = ProductFactory(price=Decimal("120.00"), stock=7, sku="SKU-X", category=category)
    with app.app_context():
        expected = checkout_module._read_products([product.id])
        statement = checkout_module._products_statement(current_dialect())
        shuffled = statement.with_only_columns(*reversed(statement.selected_columns))
        monkeypatch.setattr(checkout_module, "_products_statement", lambda dialect: shuffled)

        read = checkout_module._read_products([product.id])

    assert read == expected
    assert read[product.id] == checkout_module.CheckoutProduct(
        id=product.id,
        name=product.name,
        sku="SKU-X",
        price=Decimal("120.00"),
        stock=7,
        listed=True,
        supplier_id=product.supplier_id,
        warranty_months=product.warranty_months,
        effective_commission_rate=Decimal("0.0500"),
    )


def test_the_stock_statements_cache_holds_one_per_cart_size_at_most():
    assert checkout_module._take_stock_statement.cache_info().maxsize == CART_MAX_LINES


@pytest.mark.parametrize("seen_by", ["the product read", "the stock take"])
def test_a_suspended_suppliers_product_is_refused_and_no_stock_is_taken(
    checkout, fill_cart, db, monkeypatch, seen_by
):
    kept = ProductFactory(stock=5)
    suspended = ProductFactory(stock=5, name="Grey Import")
    fill_cart((kept, 1), (suspended, 2))
    set_supplier_status(suspended.supplier, SupplierStatus.SUSPENDED)
    db.session.commit()
    if seen_by == "the stock take":  # as if the supplier were suspended after the read
        monkeypatch.setattr(checkout_module, "_shortfalls", lambda quantities, products: [])

    response = checkout()

    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "INSUFFICIENT_STOCK"
    assert error["details"]["items"] == [
        {"product_id": suspended.id, "name": "Grey Import", "requested": 2, "available": 0}
    ]
    db.session.expire_all()
    assert (stock_of(db, kept), stock_of(db, suspended)) == (5, 5)
    assert count(db, Order) == 0 and count(db, CartItem) == 2


def test_the_checkout_statements_stay_plain_core_statements(app):
    # Criteria on the entity would make them ORM statements, whose handling costs more
    # CPU than running them.
    with app.app_context():
        dialect = current_dialect()
        statements = [
            checkout_module._products_statement(dialect),
            checkout_module._take_stock_statement(dialect, 2),
        ]
    assert [dict(statement._propagate_attrs) for statement in statements] == [{}, {}]


@pytest.mark.parametrize(
    ("quantity", "total"),
    [
        (2, "20000000249.98"),  # the lines alone overflow the column
        (1, "10000000249.99"),  # the delivery fee tips the order's total over
    ],
)
def test_an_order_beyond_the_money_column_is_a_422_and_writes_nothing(
    checkout, fill_cart, db, quantity, total
):
    legacy = ProductFactory(price=Decimal("9999999999.99"), stock=5)  # priced before the cap
    fill_cart((legacy, quantity))

    response = checkout()

    assert response.status_code == 422
    assert response.json["error"] == {
        "code": "AMOUNT_TOO_LARGE",
        "details": {"amount": total, "max": "9999999999.99"},
    }
    db.session.expire_all()
    assert stock_of(db, legacy) == 5
    assert count(db, Order) == 0 and count(db, OrderItem) == 0 and count(db, CartItem) == 1
