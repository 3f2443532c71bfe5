"""Scheduled catalog jobs."""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.catalog.models import Product, recount_listed, refresh_stale_documents
from app.extensions import db

log = logging.getLogger(__name__)

BATCH_SIZE = 1000


def reconcile_listing() -> dict[str, int]:
    """Make the list's totals (``ListedCount``) and the search rows right again after
    writes that bypassed the ORM (bulk loads, ``update(Product)``).

    The counters are recounted in one short transaction; the search rows are checked
    ``BATCH_SIZE`` products at a time, each batch committed on its own. Returns how many
    of each were fixed.
    """
    counters = recount_listed(db.session)
    db.session.commit()
    documents, after = 0, 0
    while True:
        ids = db.session.scalars(
            select(Product.id).where(Product.id > after).order_by(Product.id).limit(BATCH_SIZE)
        ).all()
        if not ids:
            break
        documents += refresh_stale_documents(db.session, Product.id.between(ids[0], ids[-1]))
        db.session.commit()
        after = ids[-1]
    if counters or documents:
        log.warning(
            "catalog reconcile fixed %d listed counters, %d search rows", counters, documents
        )
    return {"counters": counters, "documents": documents}
