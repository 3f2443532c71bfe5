from sqlalchemy import func, select

from app.catalog.models import Brand, Category, Product
from app.catalog.seed import seed
from app.delivery.models import DeliveryZone


def test_seed_is_complete_and_idempotent(db, client):
    for _ in range(2):
        seed()
        db.session.commit()
    count = lambda model: db.session.scalar(select(func.count(model.id)))  # noqa: E731
    assert count(Category) >= 8 and count(Brand) >= 10 and count(DeliveryZone) >= 6
    assert count(Product) >= 60
    suppliers = db.session.scalar(select(func.count(func.distinct(Product.supplier_id))))
    assert suppliers >= 3
    listed = client.get("/api/products?search=samsung&per_page=1").json["meta"]["total"]
    assert listed > 5
