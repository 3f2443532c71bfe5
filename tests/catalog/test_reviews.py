from decimal import Decimal

import pytest

from app.auth.models import UserRole
from app.orders.models import OrderStatus
from tests.factories.auth import UserFactory
from tests.factories.catalog import ProductFactory
from tests.factories.orders import OrderFactory


@pytest.fixture
def product():
    return ProductFactory()


def received(product, customer=None):
    customer = customer or UserFactory(role=UserRole.CUSTOMER)
    OrderFactory(customer=customer, status=OrderStatus.DELIVERED, items=[(product, 1)])
    return customer


def review(client, product, headers, rating=5, **extra):
    return client.post(
        f"/api/products/{product.id}/reviews",
        json={"rating": rating, "title": "Great", "body": "Works well"} | extra,
        headers=headers,
    )


def rating_of(client, product):
    return client.get(f"/api/products/{product.id}").json["data"]["rating"]


def test_customer_who_received_the_product_reviews_it_once(client, product, auth_headers):
    headers = auth_headers(received(product))
    response = review(client, product, headers, rating=4)
    assert response.status_code == 201, response.json
    assert response.json["data"]["rating"] == 4 and response.json["data"]["user"]["name"]
    again = review(client, product, headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "ALREADY_REVIEWED"
    assert rating_of(client, product) == {"average": 4.0, "count": 1}


def test_only_delivered_orders_allow_a_review(client, product, customer, customer_headers):
    OrderFactory(customer=customer, status=OrderStatus.SHIPPED, items=[(product, 1)])
    response = review(client, product, customer_headers)
    assert response.status_code == 403 and response.json["error"]["code"] == "NOT_PURCHASED"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"rating": 0}, "rating"), ({"rating": 6}, "rating"), ({"title": ""}, "title")],
)
def test_bad_reviews_are_400(client, product, auth_headers, payload, field):
    response = client.post(
        f"/api/products/{product.id}/reviews",
        json={"rating": 5, "title": "Ok"} | payload,
        headers=auth_headers(received(product)),
    )
    assert response.status_code == 400 and field in response.json["error"]["details"]


def test_review_id_beyond_the_integer_range_is_404(client, product, customer_headers):
    url = f"/api/products/{product.id}/reviews/50723066522636786171897708544"
    response = client.put(url, json={"rating": 3}, headers=customer_headers)
    assert response.status_code == 404
    assert response.json["error"]["code"] == "NOT_FOUND"


def test_rating_stays_exact_through_add_edit_and_removal(client, product, auth_headers, role_user):
    first, second, third = (auth_headers(received(product)) for _ in range(3))
    ids = [
        review(client, product, h, rating=r).json["data"]["id"]
        for h, r in ((first, 5), (second, 4), (third, 4))
    ]
    assert rating_of(client, product) == {"average": 4.33, "count": 3}

    edited = client.put(
        f"/api/products/{product.id}/reviews/{ids[1]}", json={"rating": 1}, headers=second
    )
    assert edited.status_code == 200 and edited.json["data"]["title"] == "Great"
    assert rating_of(client, product) == {"average": 3.33, "count": 3}
    assert (
        client.put(
            f"/api/products/{product.id}/reviews/{ids[0]}", json={"rating": 1}, headers=second
        ).status_code
        == 404
    )  # someone else's review

    support = auth_headers(role_user(UserRole.SUPPORT_ADMIN))
    removed = client.delete(f"/api/products/{product.id}/reviews/{ids[0]}", headers=support)
    assert removed.status_code == 200
    assert rating_of(client, product) == {"average": 2.5, "count": 2}
    from app.catalog.models import Product
    from app.extensions import db

    db.session.expire_all()
    stored = db.session.get(Product, product.id)
    assert (stored.rating_sum, stored.rating_count) == (5, 2)
    assert stored.rating_average == Decimal("2.50")


def test_reviews_are_listed_newest_first_with_pagination(client, product, auth_headers):
    for rating in (3, 5):
        review(client, product, auth_headers(received(product)), rating=rating)
    response = client.get(f"/api/products/{product.id}/reviews?per_page=1")
    assert response.status_code == 200
    assert response.json["meta"]["total"] == 2
    assert response.json["data"][0]["rating"] == 5
    assert client.get("/api/products/999/reviews").status_code == 404
