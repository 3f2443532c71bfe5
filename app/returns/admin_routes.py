"""Admin: returns review, refunds of returns and analytics"""

from __future__ import annotations

from app.api import Blueprint
from app.auth.access import current_user, requires
from app.common.idempotency import idempotent
from app.errors import Conflict, NotFound
from app.extensions import db
from app.pagination import paginate
from app.payments.refunds import send_refund
from app.payments.schemas import ProcessRefundSchema
from app.returns import operations, stats
from app.returns.routes import LIST_LOADS, return_decider_required
from app.returns.schemas import (
    PeriodSchema,
    ReplacementUpdateSchema,
    ReturnAnalyticsSchema,
    ReturnDecisionSchema,
    ReturnDetailSchema,
    ReturnQuerySchema,
    ReturnSchema,
)

blp = Blueprint(
    "admin_returns",
    __name__,
    url_prefix="/api/admin/returns",
    description="Admin: returns review, refunds of returns and analytics",
)
admin_viewer_required = requires("returns.read")


@blp.route("", methods=["GET"])
@admin_viewer_required
@blp.arguments(ReturnQuerySchema, location="query")
@blp.response(200, ReturnSchema, paginated=True)
def admin_list_returns(params):
    """Every return, newest first (filters ``status``, ``reason``, ``type``, ``from``,
    ``to``)."""
    statement = operations.list_statement(current_user(), params).options(*LIST_LOADS)
    return paginate(statement, params)


@blp.route("/analytics", methods=["GET"])
@admin_viewer_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, ReturnAnalyticsSchema)
def admin_return_analytics(params):
    """The returns' statistics plus return rates (units returned / units delivered) per
    supplier, product and category, highest first (20 rows each)."""
    return stats.return_analytics(params)


def _decide(decision: str, return_id: int, args) -> object:
    reason = args.get("reason") or args.get("notes")
    ret = operations.review(current_user(), return_id, decision, reason)
    db.session.commit()
    return ret


@blp.route("/<int:return_id>/approve", methods=["PUT", "POST"])
@return_decider_required
@blp.arguments(ReturnDecisionSchema)
@blp.response(200, ReturnDetailSchema, message="Return approved")
@blp.errors(
    (404, "NOT_FOUND"),
    (409, "INVALID_TRANSITION"),
    (422, "REASON_REQUIRED (over a dispute), REFUND_EXCEEDS_PAYMENT"),
)
def approve_return(args, return_id: int):
    """Approve an open return (as ``PUT /returns/<id>/review`` with APPROVE)."""
    return _decide("APPROVE", return_id, args)


@blp.route("/<int:return_id>/reject", methods=["PUT", "POST"])
@return_decider_required
@blp.arguments(ReturnDecisionSchema)
@blp.response(200, ReturnDetailSchema, message="Return rejected")
@blp.errors((404, "NOT_FOUND"), (409, "INVALID_TRANSITION"), (422, "REASON_REQUIRED"))
def reject_return(args, return_id: int):
    """Reject an open return, giving a ``reason`` (POST accepted, as the web app sends)."""
    return _decide("REJECT", return_id, args)


@blp.route("/<int:return_id>/process-refund", methods=["POST"])
@requires("finance.payments")
@idempotent
@blp.arguments(ProcessRefundSchema)
@blp.response(200, ReturnDetailSchema, message="Refund processed")
@blp.errors(
    (404, "NOT_FOUND"),
    (409, "RETURN_NOT_APPROVED, REFUND_FAILED (retry it), REFUND_IN_FLIGHT"),
    (422, "REFUND_METHOD_MISMATCH, REFUND_TOO_SMALL (B2C under KES 10), REFERENCE_REQUIRED"),
    (502, "PROVIDER_ERROR: the refund stays PENDING, retry later"),
)
def process_return_refund(args, return_id: int):
    """Send the approved return's refund, once, by the original payment's method (card:
    Paystack; M-Pesa: B2C to the phone that paid; cash: B2C to the customer's phone,
    whole shillings rounded up), PROCESSING until the provider confirms it; or record one
    paid by hand (MANUAL with ``reference``: COMPLETED at once). A double click, a second
    admin or a replayed ``Idempotency-Key`` finds it sent and sends nothing."""
    ret = operations.find_return(current_user(), return_id)
    if ret.refund_id is None:
        raise Conflict(
            "This return has no refund to process (not approved, or nothing to refund)",
            code="RETURN_NOT_APPROVED",
            details={"status": str(ret.status)},
        )
    send_refund(
        ret.refund_id,
        actor_id=current_user().id,
        method=args.get("method"),
        reference=args.get("reference"),
    )
    db.session.refresh(ret)
    return ret


@blp.route("/<int:return_id>/replacement", methods=["PUT"])
@return_decider_required
@blp.arguments(ReplacementUpdateSchema)
@blp.response(200, ReturnDetailSchema, message="Replacement updated")
@blp.errors((404, "NOT_FOUND: no such return or no replacement"), (409, "INVALID_TRANSITION"))
def update_replacement(args, return_id: int):
    """A warranty replacement's shipment: PENDING -> SHIPPED -> DELIVERED."""
    ret = operations.find_return(current_user(), return_id)
    if ret.replacement is None:
        raise NotFound("This return has no replacement")
    operations.move_replacement(ret, args["status"], current_user())
    db.session.commit()
    return ret
