from sqlalchemy import func, select, text

from app.catalog import jobs
from app.catalog.jobs import reconcile_listing
from app.catalog.models import ListedCount, ProductSearch
from app.scheduler import execute, find_job
from tests.factories.auth import SupplierProfileFactory
from tests.factories.catalog import ProductFactory


def total(client):
    return client.get("/api/products").json["meta"]["total"]


def found(client, query):
    return [product["name"] for product in client.get(f"/api/products?search={query}").json["data"]]


def test_the_nightly_job_repairs_totals_and_search_rows_that_bulk_writes_broke(
    client, db, monkeypatch
):
    monkeypatch.setattr(jobs, "BATCH_SIZE", 2)  # several batches
    supplier = SupplierProfileFactory()
    kept = ProductFactory(name="Kept Phone", supplier=supplier)
    lost = ProductFactory(name="Lost Phone", supplier=supplier)
    renamed = ProductFactory(name="Old Name", supplier=supplier)
    ProductFactory(name="Other Phone")
    assert total(client) == 4
    db.session.execute(text("UPDATE listed_counts SET active_products = 40"))
    db.session.execute(text(f"DELETE FROM product_search WHERE product_id = {lost.id}"))
    db.session.execute(text(f"UPDATE products SET name = 'Fresh Tablet' WHERE id = {renamed.id}"))
    db.session.execute(text(f"UPDATE products SET is_active = false WHERE id = {kept.id}"))
    db.session.commit()
    assert total(client) == 80 and found(client, "lost") == [] and found(client, "fresh") == []

    assert reconcile_listing() == {"counters": 2, "documents": 3}

    assert total(client) == 3
    assert found(client, "lost") == ["Lost Phone"] and found(client, "fresh") == ["Fresh Tablet"]
    assert sorted(found(client, "phone")) == ["Lost Phone", "Other Phone"]
    assert reconcile_listing() == {"counters": 0, "documents": 0}


def test_the_job_is_scheduled_nightly(db):
    job = find_job("reconcile_catalog_listing")
    assert job.interval_seconds == 24 * 3600
    ProductFactory()
    db.session.execute(text("DELETE FROM listed_counts"))
    db.session.commit()
    run = execute(job, "slot-1")
    assert run.status == "SUCCEEDED", run.result
    assert db.session.scalar(select(func.sum(ListedCount.active_products))) == 1
    assert db.session.scalar(select(func.count()).select_from(ProductSearch)) == 1
