"""Exact money: Decimal in, Decimal out, two places, never a binary float; and the rules
that split and round it (a line's commission and supplier's net, whole shillings)."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from app.errors import Unprocessable

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
CURRENCY = "KES"
MAX_AMOUNT = Decimal("10000000000")  # NUMERIC(12, 2) holds up to 9999999999.99
MAX_PRICE = Decimal("10000000.00")  # a product's: a thousand of it still fits a column


def parse_money(value: object, *, allow_negative: bool = False) -> Decimal:
    """Turn a JSON number or numeric string into Decimal cents, or raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("Not a valid amount.")
    try:
        # str() of a float gives its shortest repr: 1499.99 -> "1499.99", exactly.
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise ValueError("Not a valid amount.") from None
    if not amount.is_finite():
        raise ValueError("Amount must be a finite number.")
    if abs(amount) >= MAX_AMOUNT:  # before quantize(), which fails on huge exponents
        raise ValueError("Amount is too large.")
    if amount != amount.quantize(CENTS):
        raise ValueError("Amount cannot have more than two decimal places.")
    if amount < 0 and not allow_negative:
        raise ValueError("Amount cannot be negative.")
    return amount.quantize(CENTS)


def format_money(amount: Decimal) -> str:
    return f"{amount.quantize(CENTS):.2f}"


def ensure_storable(amount: Decimal, what: str) -> None:
    """A total (of a cart line, a cart, an order) a money column can hold, else a 422
    ``AMOUNT_TOO_LARGE`` naming ``what`` it is."""
    if amount >= MAX_AMOUNT:
        raise Unprocessable(
            f"{what} is more than the KES {format_money(MAX_AMOUNT - CENTS)} an order can hold",
            code="AMOUNT_TOO_LARGE",
            details={"amount": format_money(amount), "max": format_money(MAX_AMOUNT - CENTS)},
        )


def whole_shillings(amount: Decimal) -> int:
    """M-Pesa takes whole shillings only: round up so the order is never underpaid."""
    return int(amount.to_integral_value(rounding=ROUND_CEILING))


def cents(amount: Decimal) -> int:
    """Paystack takes the amount in the currency's subunit (KES cents)."""
    return int((amount.quantize(CENTS) * 100).to_integral_value())


def from_subunits(amount: int) -> Decimal:
    """An amount in the currency's subunit (Paystack's KES cents) as Decimal: 149950 -> 1499.50."""
    return (Decimal(amount) * CENTS).quantize(CENTS)


def line_commission(line_total: Decimal, rate: Decimal) -> Decimal:
    """The platform's commission on an order line: ``rate`` of its total, to the cent,
    half a cent rounded up."""
    return (line_total * rate).quantize(CENTS, rounding=ROUND_HALF_UP)


def supplier_net(line_total: Decimal, rate: Decimal) -> Decimal:
    """What the supplier earns of an order line: its total less the commission."""
    return line_total - line_commission(line_total, rate)
