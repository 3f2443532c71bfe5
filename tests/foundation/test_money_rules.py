"""The money rules in app/money.py: a line's commission and the supplier's net, whole
shillings for M-Pesa."""

from decimal import Decimal

import pytest

from app.money import line_commission, supplier_net, whole_shillings


@pytest.mark.parametrize(
    ("line_total", "rate", "commission"),
    [
        ("10.10", "0.0500", "0.51"),  # 0.505: half a cent rounds up (not to even: 0.50)
        ("1.00", "0.0050", "0.01"),  # 0.005
        ("0.30", "0.0150", "0.00"),  # 0.0045: below half a cent
        ("49999.98", "0.0750", "3750.00"),  # 3749.9985
        ("333.33", "0.1500", "50.00"),  # 49.9995
        ("1499.99", "0", "0.00"),  # no commission
        ("1499.99", "1", "1499.99"),  # all of it
    ],
)
def test_a_lines_commission_and_the_suppliers_net_add_up_to_the_line(line_total, rate, commission):
    line_total, rate = Decimal(line_total), Decimal(rate)
    assert line_commission(line_total, rate) == Decimal(commission)
    assert supplier_net(line_total, rate) == line_total - Decimal(commission)


def test_zero_and_full_rates_leave_all_to_one_side():
    assert supplier_net(Decimal("1499.99"), Decimal("0")) == Decimal("1499.99")
    assert supplier_net(Decimal("1499.99"), Decimal("1")) == Decimal("0.00")


@pytest.mark.parametrize(
    ("amount", "shillings"),
    [("100.00", 100), ("100.01", 101), ("100.50", 101), ("100.99", 101), ("0.01", 1)],
)
def test_mpesa_amounts_round_up_to_whole_shillings(amount, shillings):
    assert whole_shillings(Decimal(amount)) == shillings
