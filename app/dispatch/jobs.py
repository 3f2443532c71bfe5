"""Scheduled dispatch work (registered in ``app/scheduler.py``)."""

from __future__ import annotations

from app.dispatch.assignment import expire_offers
from app.dispatch.proof import auto_confirm


def expire_delivery_offers() -> int:
    """Close offers older than DELIVERY_OFFER_MINUTES; how many."""
    return expire_offers()


def auto_confirm_deliveries() -> int:
    """Confirm deliveries neither confirmed nor disputed within DELIVERY_CONFIRM_HOURS."""
    return auto_confirm()
