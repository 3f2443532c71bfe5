from decimal import Decimal

from sqlalchemy import select

from app.catalog.cards import select_cards
from app.catalog.models import Product
from app.catalog.schemas import ProductSchema
from tests.factories.catalog import ProductFactory


def test_a_card_holds_exactly_the_fields_of_product_schema(db):
    ProductFactory()
    card = db.session.execute(select_cards()).scalar_one()
    assert set(card) == set(ProductSchema().fields)


def test_a_card_derives_its_fields_as_the_product_does(db):
    listed = ProductFactory(
        images=["https://cdn.example.com/a.jpg", "https://cdn.example.com/b.jpg"]
    )
    bare = ProductFactory(
        out_of_stock=True, images=[], rating_average=Decimal("4.50"), rating_count=2
    )
    cards = {card["id"]: card for card in db.session.scalars(select_cards())}
    for product in db.session.scalars(select(Product)):
        card = cards[product.id]
        assert (card["in_stock"], card["cover_image"], card["rating"]) == (
            product.in_stock,
            product.cover_image,
            product.rating,
        )
    assert cards[listed.id]["cover_image"] == "https://cdn.example.com/a.jpg"
    assert cards[bare.id]["in_stock"] is False and cards[bare.id]["cover_image"] is None
    assert cards[bare.id]["rating"] == {"average": Decimal("4.50"), "count": 2}
