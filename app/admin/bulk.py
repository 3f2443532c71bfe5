"""Bulk actions: each id on its own, in a savepoint, so a refused id changes nothing and
the others still go through; the answer reports every id."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from app.errors import ApiError
from app.extensions import db

MAX_IDS = 100


def for_each(ids: Iterable[int], action: Callable[[int], str]) -> dict[str, Any]:
    """Run ``action(id)`` for each id (once each, in the order sent); ``action`` returns
    what it did (``"updated"``, ``"unchanged"``, ...) or raises an ``ApiError``, whose
    savepoint is then rolled back."""
    results = []
    for object_id in dict.fromkeys(ids):
        try:
            with db.session.begin_nested():
                outcome = action(object_id)
        except ApiError as error:
            results.append(
                {
                    "id": object_id,
                    "ok": False,
                    "result": "refused",
                    "error": {"code": error.code, "message": error.message},
                }
            )
        else:
            results.append({"id": object_id, "ok": True, "result": outcome, "error": None})
    succeeded = sum(1 for result in results if result["ok"])
    return {"results": results, "succeeded": succeeded, "failed": len(results) - succeeded}
