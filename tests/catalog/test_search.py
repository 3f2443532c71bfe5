import pytest

from app.auth.accounts import set_supplier_status
from app.auth.models import SupplierStatus
from tests.conftest import is_postgres
from tests.factories.catalog import BrandFactory, CategoryFactory, ProductFactory


def search(client, query, extra=""):
    response = client.get(f"/api/products?search={query}{extra}")
    assert response.status_code == 200, response.json
    return [product["name"] for product in response.json["data"]]


@pytest.fixture
def catalog():
    samsung = BrandFactory(name="Samsung", slug="samsung")
    phones = CategoryFactory(name="Smartphones", slug="smartphones")
    tvs = CategoryFactory(name="Televisions", slug="televisions")
    ProductFactory(name="Galaxy A55", brand=samsung, category=phones, description="5G phone")
    ProductFactory(name="Crystal UHD 55", brand=samsung, category=tvs, description="4K screen")
    ProductFactory(name="Pixel 9", category=phones, description="Pairs with Samsung watches")
    ProductFactory(name="Hidden Samsung", brand=samsung, inactive=True)


def test_search_covers_name_brand_category_and_description_with_prefixes(client, catalog):
    assert sorted(search(client, "sams")) == ["Crystal UHD 55", "Galaxy A55", "Pixel 9"]
    assert search(client, "galax") == ["Galaxy A55"]
    assert sorted(search(client, "smartphone")) == ["Galaxy A55", "Pixel 9"]
    assert search(client, "samsung televisions") == ["Crystal UHD 55"]
    assert search(client, "nothing-like-this") == []


def test_name_matches_rank_above_newer_description_matches(client):
    ProductFactory(name="Galaxy Watch 6", description="Round display")
    ProductFactory(name="Charger", description="For your watch")
    assert search(client, "watch") == ["Galaxy Watch 6", "Charger"]
    assert search(client, "watch", "&sort_by=newest") == ["Charger", "Galaxy Watch 6"]


@pytest.mark.postgres
def test_postgres_ranks_name_and_brand_above_description(client, catalog):
    assert search(client, "samsung")[-1] == "Pixel 9"


def test_search_combines_with_filters_and_other_sorts(client, catalog):
    assert search(client, "samsung", "&category=televisions") == ["Crystal UHD 55"]
    assert search(client, "sams", "&sort_by=name") == ["Crystal UHD 55", "Galaxy A55", "Pixel 9"]


def test_punctuation_only_search_is_ignored(client, catalog):
    assert len(search(client, "%25%26%3A*")) == 3


def test_renaming_a_brand_refreshes_search(client, catalog, manager_headers):
    from sqlalchemy import select

    from app.catalog.models import Brand
    from app.extensions import db

    brand_id = db.session.scalar(select(Brand.id).where(Brand.slug == "samsung"))
    response = client.put(
        f"/api/products/brands/{brand_id}", json={"name": "Sumsang"}, headers=manager_headers
    )
    assert response.status_code == 200
    assert sorted(search(client, "sumsang")) == ["Crystal UHD 55", "Galaxy A55"]


@pytest.mark.postgres
def test_postgres_uses_a_weighted_tsvector_with_a_gin_index(db, catalog):
    from sqlalchemy import text

    assert is_postgres()
    kind = db.session.scalar(
        text(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'product_search' AND column_name = 'search_vector'"
        )
    )
    assert kind == "tsvector"
    index = db.session.scalar(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_product_search_vector'")
    )
    assert "USING gin" in index and "fastupdate=off" in index
    vector = db.session.scalar(
        text(
            "SELECT s.search_vector::text FROM product_search s "
            "JOIN products p ON p.id = s.product_id WHERE p.name = 'Galaxy A55'"
        )
    )
    assert "'galaxi':1A" in vector and "'samsung':3B" in vector and "'phone':6C" in vector


def test_search_rows_follow_product_writes(client, db, supplier, supplier_headers):
    """Each product's search row is rewritten with it: document, activity and supplier."""
    from sqlalchemy import func, select

    from app.catalog.models import ProductSearch
    from tests.factories.auth import SupplierProfileFactory

    product = ProductFactory(name="Lumia 950", supplier=supplier.supplier_profile)
    other = ProductFactory(name="Lumia 640")
    db.session.commit()
    assert search(client, "lumia") == ["Lumia 640", "Lumia 950"]

    response = client.put(
        f"/api/products/{product.id}", json={"name": "Nokia X"}, headers=supplier_headers
    )
    assert response.status_code == 200
    assert search(client, "lumia") == ["Lumia 640"] and search(client, "nokia") == ["Nokia X"]

    other.supplier = SupplierProfileFactory(pending=True)
    db.session.commit()
    assert search(client, "lumia") == []
    set_supplier_status(other.supplier, SupplierStatus.APPROVED)
    other.is_active = False
    db.session.commit()
    assert search(client, "lumia") == []

    response = client.delete(f"/api/products/{product.id}", headers=supplier_headers)
    assert response.status_code == 200
    assert search(client, "nokia") == []
    assert db.session.scalar(select(func.count()).select_from(ProductSearch)) == 1
