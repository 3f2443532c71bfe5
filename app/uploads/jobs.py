"""Scheduled work of the uploads domain."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.uploads.models import Upload
from app.uploads.operations import delete_uploads

ORPHAN_AFTER = timedelta(hours=24)
BATCH = 500


def purge_orphan_uploads() -> int:
    """Delete uploads not attached to anything 24 hours after they were made (files go
    once the job's transaction commits); how many."""
    orphans = db.session.scalars(
        select(Upload)
        .where(Upload.attached_to.is_(None), Upload.created_at < utcnow() - ORPHAN_AFTER)
        .order_by(Upload.created_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    delete_uploads(orphans)
    return len(orphans)
