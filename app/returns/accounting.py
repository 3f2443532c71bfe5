"""A return's ledger entry: what its approval moves, posted once (``return-approved:<id>``).

Lines (debit positive): Cr ``REFUNDS_OWED`` the refund; Dr the supplier's share
(``supplier_deduction``) on the item's ``SUPPLIER_ON_HOLD`` first, as much as the item
still has on hold, the rest on ``SUPPLIER_AVAILABLE`` (which may go negative: later sales
make it up before any payout); Dr ``COMMISSION_REVENUE`` the commission given back; Dr
``RETURN_COSTS`` what the platform bears; Cr ``RESTOCKING_REVENUE`` the restocking fee.
The refund's settlement then moves ``REFUNDS_OWED`` out (``refund-settled``).

The on-hold part carries the item's id, so the hold-release job (which releases what an
item still has on hold) releases only the rest. Both take the row lock of the item's
on-hold line first: a release and a return debit never both count the same money.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import exists, func, select

from app.extensions import db
from app.ledger.models import AccountCode as A
from app.ledger.models import EntryKind, LedgerAccount, LedgerEntry, LedgerLine
from app.ledger.operations import Line, post, sum_to_cents
from app.money import ZERO
from app.returns.models import ReturnRequest


def lock_hold(order_item_id: int) -> None:
    """Row-lock the item's on-hold line until commit, as the release job does. Taken
    before the order's row lock: the job, holding its lines, then inserts entries that
    refer to the order (a key-share lock that waits on the order's row lock)."""
    on_hold_lines = (
        select(LedgerLine.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(
            LedgerLine.order_item_id == order_item_id,
            LedgerAccount.code == A.SUPPLIER_ON_HOLD,
            LedgerLine.release_at.is_not(None),
        )
    )
    db.session.execute(on_hold_lines.with_for_update(of=LedgerLine)).all()


def item_still_on_hold(order_item_id: int) -> Decimal:
    """What the item's supplier still has on hold for it (0 once released); call it
    holding ``lock_hold``."""
    released = db.session.scalar(
        select(
            exists().where(LedgerEntry.event_key == f"{EntryKind.HOLD_RELEASED}:{order_item_id}")
        )
    )
    if released:
        return ZERO
    total = db.session.scalar(
        select(func.sum(LedgerLine.amount))
        .join(LedgerAccount, LedgerAccount.id == LedgerLine.account_id)
        .where(
            LedgerLine.order_item_id == order_item_id,
            LedgerAccount.code == A.SUPPLIER_ON_HOLD,
        )
    )
    return max(-sum_to_cents(total), ZERO)


def post_return_approved(ret: ReturnRequest) -> bool:
    """The approved return's entry (see the module's docstring); False if posted before."""
    item = ret.item
    lines = [Line(A.REFUNDS_OWED, -ret.refund_amount, order_item_id=item.id)]
    if ret.supplier_deduction:
        from_hold = min(item_still_on_hold(item.id), ret.supplier_deduction)
        lines += [
            Line(A.SUPPLIER_ON_HOLD, from_hold, item.supplier_id, item.id),
            Line(
                A.SUPPLIER_AVAILABLE, ret.supplier_deduction - from_hold, item.supplier_id, item.id
            ),
        ]
    lines += [
        Line(A.COMMISSION_REVENUE, ret.commission_refund, order_item_id=item.id),
        Line(A.RETURN_COSTS, ret.platform_cost, order_item_id=item.id),
        Line(A.RESTOCKING_REVENUE, -ret.restocking_fee, order_item_id=item.id),
    ]
    return post(
        f"{EntryKind.RETURN_APPROVED}:{ret.id}",
        EntryKind.RETURN_APPROVED,
        lines,
        occurred_at=ret.decided_at,
        order_id=ret.order_id,
        supplier_id=ret.supplier_id,
        memo=f"Return {ret.return_number}: {ret.reason} x{ret.quantity}",
    )
