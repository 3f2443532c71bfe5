from decimal import Decimal
from tests.factories.catalog import ProductFactory
def test_f(db):
    p = ProductFactory(price=Decimal("5.00"), stock=2)
    assert p.id and p.in_stock
    assert not ProductFactory(out_of_stock=True).in_stock
