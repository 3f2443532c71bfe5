"""The refund policy: the one function that says what a return refunds and who bears it.

``refund_policy`` answers for ``quantity`` units of an order item returned for ``reason``:

- supplier fault (``DEFECTIVE``, ``WRONG_ITEM``, ``NOT_AS_DESCRIBED``, ``MISSING_PARTS``):
  the customer gets the paid price × quantity, plus the delivery fee when the whole order
  comes back; the supplier's net share of those units is debited; the platform gives back
  its commission on them and bears the delivery fee.
- ``DAMAGED_IN_TRANSIT``: the customer gets the paid price × quantity; the supplier keeps
  its share; the platform bears it all (``RETURN_COSTS``).
- ``CHANGED_MIND``: the customer gets the paid price × quantity less the restocking fee
  (``restocking_fee_rate``, 10 %); the supplier's net share is debited; the platform gives
  back its commission and keeps the fee (``RESTOCKING_REVENUE``).

A warranty claim resolved by repair or replacement refunds nothing. The commission of the
returned units is their share of the item's snapshotted commission, counted so that the
units of an item, returned in any number of returns, give back exactly its commission.
Every amount is exact to the cent; ``supplier_deduction + commission_refund +
platform_cost == refund_amount + restocking_fee`` always (the ledger entry balances).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from app.money import CENTS, ZERO
from app.returns.models import ReturnReason, WarrantyResolution

R = ReturnReason
SUPPLIER_FAULT = frozenset({R.DEFECTIVE, R.WRONG_ITEM, R.NOT_AS_DESCRIBED, R.MISSING_PARTS})
# Reasons whose customer must show the problem (at least one image).
EVIDENCE_REQUIRED = frozenset({R.DEFECTIVE, R.DAMAGED_IN_TRANSIT})


@dataclass(frozen=True)
class RefundPolicy:
    refund_amount: Decimal  # to the customer
    supplier_deduction: Decimal  # taken from the supplier's earnings
    commission_refund: Decimal  # the platform's commission given back
    restocking_fee: Decimal  # kept by the platform (CHANGED_MIND)
    platform_cost: Decimal  # borne by the platform (transit damage, the delivery fee)
    delivery_fee_refund: Decimal  # part of refund_amount

    def as_columns(self) -> dict[str, Decimal]:
        return {
            "refund_amount": self.refund_amount,
            "supplier_deduction": self.supplier_deduction,
            "commission_refund": self.commission_refund,
            "restocking_fee": self.restocking_fee,
            "platform_cost": self.platform_cost,
            "delivery_fee_refund": self.delivery_fee_refund,
        }


NOTHING = RefundPolicy(ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)


def commission_of_units(
    commission_amount: Decimal, item_quantity: int, already_returned: int, quantity: int
) -> Decimal:
    """The commission of units ``already_returned + 1 .. + quantity`` of an item: the
    difference of the cumulative shares, so all its units add up to ``commission_amount``."""

    def up_to(units: int) -> Decimal:
        return (commission_amount * units / item_quantity).quantize(CENTS, rounding=ROUND_HALF_UP)

    return up_to(already_returned + quantity) - up_to(already_returned)


def refund_policy(
    *,
    reason: ReturnReason,
    unit_price: Decimal,
    quantity: int,
    item_quantity: int,
    commission_amount: Decimal,
    already_returned: int,
    restocking_fee_rate: Decimal,
    delivery_fee: Decimal = ZERO,
    whole_order_back: bool = False,
    resolution: WarrantyResolution | None = None,
) -> RefundPolicy:
    """What returning ``quantity`` units refunds and who bears it (table above).

    ``already_returned``: units of the item taken back by earlier returns;
    ``whole_order_back``: after this return every unit of the order is returned.
    """
    if resolution in (WarrantyResolution.REPAIR, WarrantyResolution.REPLACEMENT):
        return NOTHING
    gross = (unit_price * quantity).quantize(CENTS)
    if reason == R.DAMAGED_IN_TRANSIT:
        return RefundPolicy(gross, ZERO, ZERO, ZERO, gross, ZERO)
    commission = commission_of_units(commission_amount, item_quantity, already_returned, quantity)
    net = gross - commission
    if reason == R.CHANGED_MIND:
        fee = (gross * restocking_fee_rate).quantize(CENTS, rounding=ROUND_HALF_UP)
        return RefundPolicy(gross - fee, net, commission, fee, ZERO, ZERO)
    fee_back = delivery_fee if whole_order_back else ZERO
    return RefundPolicy(gross + fee_back, net, commission, ZERO, fee_back, fee_back)
