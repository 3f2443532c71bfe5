"""Delivery zone rules: which zones are offered, the counties each covers, their fee for a
subtotal, admin edits."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select

from app.common.audit import record_change, snapshot
from app.delivery.models import DeliveryZone
from app.errors import Conflict, NotFound
from app.extensions import db
from app.money import ZERO


def active_zone(zone_id: int) -> DeliveryZone:
    zone = db.session.get(DeliveryZone, zone_id)
    if zone is None or not zone.is_active:
        raise NotFound("Delivery zone not found", details={"delivery_zone_id": zone_id})
    return zone


def _county_key(county: str) -> str:
    return "".join(county.split()).casefold()


def covers(zone: DeliveryZone, county: str) -> bool:
    """Whether ``zone`` delivers to ``county``: one of its comma-separated ``counties``,
    compared ignoring case and spaces ("homa bay" is "Homa Bay")."""
    key = _county_key(county)
    return bool(key) and any(
        _county_key(listed) == key for listed in (zone.counties or "").split(",")
    )


def zone_covering(county: str) -> DeliveryZone:
    """The active zone covering ``county``; the cheapest where several do (Nairobi is in
    both Nairobi CBD and Nairobi Metro), as the zone list orders them."""
    for zone in active_zones():
        if covers(zone, county):
            return zone
    raise NotFound("No delivery zone covers this county", details={"county": county})


def delivery_fee(zone: DeliveryZone, subtotal: Decimal) -> Decimal:
    """The zone's fee, or nothing once the subtotal reaches its free-delivery threshold."""
    threshold = zone.free_delivery_threshold
    if threshold is not None and subtotal >= threshold:
        return ZERO
    return zone.fee


@dataclass(frozen=True)
class DeliveryQuote:
    zone: DeliveryZone
    subtotal: Decimal
    fee: Decimal

    @property
    def free_delivery(self) -> bool:
        return self.fee == ZERO

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.fee


def quote_delivery(zone: DeliveryZone, subtotal: Decimal) -> DeliveryQuote:
    return DeliveryQuote(zone=zone, subtotal=subtotal, fee=delivery_fee(zone, subtotal))


def active_zones() -> list[DeliveryZone]:
    return list(
        db.session.scalars(
            select(DeliveryZone)
            .where(DeliveryZone.is_active.is_(True))
            .order_by(DeliveryZone.fee, DeliveryZone.name)
        )
    )


ZONE_FIELDS = (
    "name",
    "description",
    "counties",
    "fee",
    "estimated_days",
    "free_delivery_threshold",
    "is_active",
)


def save_zone(zone: DeliveryZone | None, data: dict[str, Any]) -> DeliveryZone:
    if "name" in data and data["name"] != (zone.name if zone else None):
        taken = select(exists().where(func.lower(DeliveryZone.name) == data["name"].lower()))
        if db.session.scalar(taken):
            raise Conflict("A delivery zone with this name exists", code="ZONE_EXISTS")
    before = None if zone is None else snapshot(zone, ZONE_FIELDS)
    if zone is None:
        zone = DeliveryZone()
        db.session.add(zone)
    for field, value in data.items():
        setattr(zone, field, value)
    db.session.flush()
    record_change("delivery_zone.saved", zone, ZONE_FIELDS, before)
    return zone
