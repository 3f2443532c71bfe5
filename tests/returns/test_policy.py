"""The refund policy table: what a return refunds and who bears it, to the cent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.returns.models import ReturnReason, WarrantyResolution
from app.returns.policy import commission_of_units, refund_policy

D = Decimal
R = ReturnReason


def policy(reason, quantity=1, **kwargs):
    args = {
        "reason": reason,
        "unit_price": D("1499.99"),
        "quantity": quantity,
        "item_quantity": 3,
        "commission_amount": D("450.00"),  # 10 % of 4,499.97, rounded
        "already_returned": 0,
        "restocking_fee_rate": D("0.10"),
        "delivery_fee": D("250.00"),
    } | kwargs
    return refund_policy(**args)


@pytest.mark.parametrize(
    ("reason", "refund", "supplier", "commission", "fee", "platform"),
    [
        (R.DEFECTIVE, "1499.99", "1349.99", "150.00", "0.00", "0.00"),
        (R.WRONG_ITEM, "1499.99", "1349.99", "150.00", "0.00", "0.00"),
        (R.NOT_AS_DESCRIBED, "1499.99", "1349.99", "150.00", "0.00", "0.00"),
        (R.MISSING_PARTS, "1499.99", "1349.99", "150.00", "0.00", "0.00"),
        (R.DAMAGED_IN_TRANSIT, "1499.99", "0.00", "0.00", "0.00", "1499.99"),
        (R.CHANGED_MIND, "1349.99", "1349.99", "150.00", "150.00", "0.00"),
    ],
)
def test_the_policy_table(reason, refund, supplier, commission, fee, platform):
    answer = policy(reason)
    assert answer.refund_amount == D(refund)
    assert answer.supplier_deduction == D(supplier)
    assert answer.commission_refund == D(commission)
    assert answer.restocking_fee == D(fee)
    assert answer.platform_cost == D(platform)
    assert answer.delivery_fee_refund == D("0.00")
    # The ledger entry balances: what is taken equals what is owed and earned.
    taken = answer.supplier_deduction + answer.commission_refund + answer.platform_cost
    assert taken == answer.refund_amount + answer.restocking_fee


@pytest.mark.parametrize(
    ("reason", "fee_back"),
    [
        (R.DEFECTIVE, "250.00"),
        (R.MISSING_PARTS, "250.00"),
        (R.CHANGED_MIND, "0.00"),
        (R.DAMAGED_IN_TRANSIT, "0.00"),
    ],
)
def test_the_delivery_fee_comes_back_only_with_the_whole_order_for_a_supplier_fault(
    reason, fee_back
):
    answer = policy(reason, quantity=3, whole_order_back=True)
    assert answer.delivery_fee_refund == D(fee_back)
    assert answer.refund_amount == D("4499.97") - answer.restocking_fee + D(fee_back)
    assert not policy(reason, quantity=3).delivery_fee_refund


def test_units_returned_one_by_one_give_back_exactly_the_items_commission():
    parts = [commission_of_units(D("450.01"), 3, done, 1) for done in range(3)]
    assert sum(parts) == D("450.01")
    assert commission_of_units(D("450.01"), 3, 0, 3) == D("450.01")


def test_the_restocking_fee_rate_is_read_as_given():
    assert policy(R.CHANGED_MIND, restocking_fee_rate=D("0.25")).restocking_fee == D("375.00")


@pytest.mark.parametrize("resolution", [WarrantyResolution.REPAIR, WarrantyResolution.REPLACEMENT])
def test_a_warranty_repair_or_replacement_refunds_nothing(resolution):
    answer = policy(R.DEFECTIVE, resolution=resolution)
    assert answer.refund_amount == answer.supplier_deduction == D("0.00")
    assert policy(R.DEFECTIVE, resolution=WarrantyResolution.REFUND).refund_amount == D("1499.99")
