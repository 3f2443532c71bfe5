"""Returns: a customer's return of a delivered item, followed by everyone concerned"""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from app.api import Blueprint
from app.auth.access import auth_required, current_user, customer_required, requires
from app.auth.models import UserRole
from app.common.idempotency import idempotent
from app.extensions import db
from app.pagination import paginate
from app.returns import operations, stats
from app.returns.policy import __doc__ as POLICY
from app.returns.schemas import (
    NoteSchema,
    PeriodSchema,
    ReturnCreateSchema,
    ReturnDetailSchema,
    ReturnQuerySchema,
    ReturnReviewSchema,
    ReturnSchema,
    ReturnStatsSchema,
    StatusUpdateSchema,
)

blp = Blueprint(
    "returns",
    __name__,
    url_prefix="/api/returns",
    description="Returns: a customer asks, the supplier answers, an admin decides. "
    + (POLICY or ""),
)

R = UserRole
return_viewer_required = auth_required(
    [R.CUSTOMER, R.SUPPLIER, *operations.ADMIN_VIEWERS], approved_supplier=True
)
stats_viewer_required = auth_required(
    [R.SUPPLIER, *operations.ADMIN_VIEWERS], approved_supplier=True
)
# Approve, reject and update a return: ADMIN and SUPPORT_ADMIN.
return_decider_required = requires("support.returns")
LIST_LOADS = (joinedload(operations.ReturnRequest.item), joinedload(operations.ReturnRequest.order))


@blp.route("", methods=["POST"])
@customer_required
@idempotent
@blp.arguments(ReturnCreateSchema)
@blp.response(201, ReturnDetailSchema, message="Return requested")
@blp.errors(
    (404, "NOT_FOUND: not your order, or not its item"),
    (422, "ORDER_NOT_DELIVERED, ORDER_NOT_PAID, RETURN_WINDOW_CLOSED, RETURN_QUANTITY_EXCEEDED"),
)
def create_return(args):
    """Ask to return ``quantity`` of an item of your delivered order.

    Within ``RETURN_WINDOW_DAYS`` of delivery (a ``RETURN``); after it, a ``DEFECTIVE``
    item is still accepted while its warranty runs (a ``WARRANTY`` claim). The answer shows
    what the refund policy gives back (``refund_amount``) and what the supplier bears
    (``supplier_deduction``) before anyone decides. Honours ``Idempotency-Key``.
    """
    user = current_user()
    ret = operations.create_return(user, args)
    db.session.commit()
    return operations.present(ret, user)


@blp.route("", methods=["GET"])
@return_viewer_required
@blp.arguments(ReturnQuerySchema, location="query")
@blp.response(200, ReturnSchema, paginated=True)
def list_returns(params):
    """Returns you may see, newest first: a customer's own, a supplier's products', all
    for admins (ADMIN, SUPPORT_ADMIN, FINANCE_ADMIN)."""
    user = current_user()
    page = paginate(operations.list_statement(user, params).options(*LIST_LOADS), params)
    page.items = [operations.present(ret, user) for ret in page.items]
    return page


@blp.route("/stats", methods=["GET"])
@stats_viewer_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, ReturnStatsSchema)
def return_stats(params):
    """Counts by status and reason, units, refunded amount, supplier deductions, supplier
    response rate, median hours to decision and to refund: all returns for admins, a
    supplier's own for a supplier (returns created in ``from``..``to``)."""
    user = current_user()
    return stats.return_stats(params, _own_supplier(user))


def _own_supplier(user) -> int | None:
    return user.supplier_profile.id if user.role == R.SUPPLIER else None


@blp.route("/<int:return_id>", methods=["GET"])
@return_viewer_required
@blp.response(200, ReturnDetailSchema)
@blp.errors((404, "NOT_FOUND: no such return, or not one you may see"))
def get_return(return_id: int):
    """One return with its timeline (every status change: who, when, from, to, note),
    its refund and any warranty replacement."""
    user = current_user()
    return operations.present(operations.find_return(user, return_id), user)


@blp.route("/<int:return_id>/cancel", methods=["POST"])
@customer_required
@blp.arguments(NoteSchema)
@blp.response(200, ReturnDetailSchema, message="Return cancelled")
@blp.errors((404, "NOT_FOUND"), (409, "INVALID_TRANSITION: already decided"))
def cancel_return(args, return_id: int):
    """Cancel your return while nobody has decided on it (REQUESTED, SUPPLIER_REVIEW)."""
    user = current_user()
    ret = operations.cancel_return(user, return_id, args.get("note"))
    db.session.commit()
    return operations.present(ret, user)


@blp.route("/<int:return_id>/review", methods=["PUT"])
@return_decider_required
@blp.arguments(ReturnReviewSchema)
@blp.response(200, ReturnDetailSchema, message="Return reviewed")
@blp.errors(
    (404, "NOT_FOUND"),
    (409, "INVALID_TRANSITION: already decided"),
    (422, "REASON_REQUIRED, REFUND_EXCEEDS_PAYMENT, INSUFFICIENT_STOCK (replacement)"),
)
def review_return(args, return_id: int):
    """APPROVE or REJECT an open return (REQUESTED, SUPPLIER_REVIEW, PENDING_REVIEW,
    DISPUTED). Rejecting, and approving over the supplier's dispute, need a ``reason``.
    Approval fixes the policy's amounts, records the refund due and posts the ledger
    entry."""
    ret = operations.review(current_user(), return_id, args["decision"], args.get("reason"))
    db.session.commit()
    return ret


@blp.route("/<int:return_id>/status", methods=["PUT"])
@return_decider_required
@blp.arguments(StatusUpdateSchema)
@blp.response(200, ReturnDetailSchema, message="Return updated")
@blp.errors((404, "NOT_FOUND"), (409, "INVALID_TRANSITION"), (422, "NOTE_REQUIRED"))
def update_return_status(args, return_id: int):
    """``ITEM_RECEIVED`` with ``item_condition`` (a RESELLABLE item goes back into stock,
    once), or ``COMPLETED`` with a ``note`` (an admin closing it)."""
    ret = operations.update_status(current_user(), return_id, args)
    db.session.commit()
    return ret
