"""Everyone concerned hears of each step of a return, in the app and by email
(a receiver of ``return_status_changed``: written in the change's transaction)."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import SupplierProfile, User, UserRole
from app.extensions import db
from app.money import format_money
from app.notifications.operations import notify
from app.returns.models import ReturnRequest, ReturnStatus
from app.signals import return_status_changed

S = ReturnStatus
CUSTOMER, SUPPLIER, ADMINS = "customer", "supplier", "admins"
# Who hears of each status, and what it means for them.
AUDIENCE: dict[ReturnStatus, tuple[str, ...]] = {
    S.REQUESTED: (CUSTOMER, SUPPLIER),
    S.SUPPLIER_REVIEW: (CUSTOMER,),
    S.DISPUTED: (CUSTOMER, ADMINS),
    S.PENDING_REVIEW: (CUSTOMER, SUPPLIER, ADMINS),
    S.APPROVED: (CUSTOMER, SUPPLIER),
    S.REJECTED: (CUSTOMER, SUPPLIER),
    S.ITEM_RECEIVED: (CUSTOMER, SUPPLIER),
    S.REFUND_COMPLETED: (CUSTOMER, SUPPLIER),
    S.COMPLETED: (CUSTOMER, SUPPLIER),
    S.CANCELLED: (CUSTOMER, SUPPLIER),
}
HEADLINES = {
    S.REQUESTED: "Return {number} requested",
    S.SUPPLIER_REVIEW: "Return {number} is being reviewed by the seller",
    S.DISPUTED: "Return {number} is disputed by the seller",
    S.PENDING_REVIEW: "Return {number} is with our support team",
    S.APPROVED: "Return {number} approved",
    S.REJECTED: "Return {number} rejected",
    S.ITEM_RECEIVED: "Return {number}: item received",
    S.REFUND_COMPLETED: "Return {number}: refund completed",
    S.COMPLETED: "Return {number} completed",
    S.CANCELLED: "Return {number} cancelled",
}
DECISION_ROLES = (UserRole.ADMIN, UserRole.SUPPORT_ADMIN)


def _message(ret: ReturnRequest, status: ReturnStatus) -> str:
    amount = f"KES {format_money(ret.refund_amount)}"
    what = f"{ret.quantity} x {ret.item.product_name} ({ret.reason})"
    return {
        S.REQUESTED: f"A return of {what} was requested. Refund if approved: {amount}.",
        S.SUPPLIER_REVIEW: f"The seller is reviewing the return of {what}.",
        S.DISPUTED: f"The seller disputes the return of {what}; an admin will decide.",
        S.PENDING_REVIEW: f"The return of {what} awaits an admin's decision.",
        S.APPROVED: f"The return of {what} was approved. Refund: {amount}.",
        S.REJECTED: f"The return of {what} was rejected.",
        S.ITEM_RECEIVED: f"The returned {ret.item.product_name} arrived ({ret.item_condition}).",
        S.REFUND_COMPLETED: f"{amount} was refunded for the return of {what}.",
        S.COMPLETED: f"The return of {what} is complete.",
        S.CANCELLED: f"The return of {what} was cancelled.",
    }[status]


def _recipients(ret: ReturnRequest, audience: tuple[str, ...]) -> list[tuple[User, str]]:
    people: list[tuple[User, str]] = []
    if CUSTOMER in audience:
        people.append((ret.customer, f"/returns/{ret.id}"))
    if SUPPLIER in audience:
        supplier = db.session.get(SupplierProfile, ret.supplier_id)
        people.append((supplier.user, f"/supplier/returns/{ret.id}"))
    if ADMINS in audience:
        admins = db.session.scalars(
            select(User).where(User.role.in_(DECISION_ROLES), User.is_active).order_by(User.id)
        )
        people.extend((admin, f"/admin/returns/{ret.id}") for admin in admins)
    return people


@return_status_changed.connect
def tell_everyone(ret: ReturnRequest, *, new: ReturnStatus, note: str | None = None, **_) -> None:
    audience = AUDIENCE.get(new, ())
    headline = HEADLINES[new].format(number=ret.return_number) if audience else ""
    message = _message(ret, new) if audience else ""
    for user, path in _recipients(ret, audience):
        notify(
            user,
            f"return-{new.lower().replace('_', '-')}",
            title=headline,
            body=message,
            path=path,
            order=ret.order,
            email=(headline, "return_update"),
            ret=ret,
            recipient=user,
            message=message,
            note=note,
        )
