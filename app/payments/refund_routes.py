"""Admin: every refund owed to customers, and sending them"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.api import Blueprint
from app.auth.access import current_user, requires
from app.pagination import paginate
from app.payments.models import Refund
from app.payments.refunds import send_refund
from app.payments.schemas import ProcessRefundSchema, RefundQuerySchema, RefundSchema

blp = Blueprint(
    "admin_refunds",
    __name__,
    url_prefix="/api/admin/refunds",
    description="Admin (ADMIN, FINANCE_ADMIN): every refund owed to customers, and sending "
    "them exactly once. Statuses: PENDING -> PROCESSING (the provider accepted it) -> "
    "COMPLETED (the provider confirmed it) / FAILED (retryable).",
)


@blp.route("", methods=["GET"])
@requires("finance.payments")
@blp.arguments(RefundQuerySchema, location="query")
@blp.response(200, RefundSchema, paginated=True)
def list_refunds(params):
    """Every refund, newest first: approved returns' (``return:<id>``), cancelled paid
    orders' (``cancel:<order>``), late and duplicate payments', and those started at
    Paystack (filters ``status``, ``cause``, ``method``, ``order_id``, ``from``, ``to``)."""
    statement = select(Refund).options(joinedload(Refund.order), joinedload(Refund.payment))
    for name in ("status", "cause", "method", "order_id"):
        if params.get(name) is not None:
            statement = statement.where(getattr(Refund, name) == params[name])
    if params.get("from"):
        statement = statement.where(Refund.created_at >= params["from"])
    if params.get("to"):
        statement = statement.where(Refund.created_at <= params["to"])
    return paginate(statement.order_by(Refund.created_at.desc(), Refund.id.desc()), params)


@blp.route("/<int:refund_id>/process", methods=["POST"])
@requires("finance.payments")
@blp.arguments(ProcessRefundSchema)
@blp.response(200, RefundSchema, message="Refund processed")
@blp.errors(
    (404, "NOT_FOUND"),
    (409, "REFUND_FAILED: retry it instead; REFUND_IN_FLIGHT: a B2C transfer is out"),
    (422, "REFUND_METHOD_MISMATCH, REFUND_TOO_SMALL (B2C under KES 10), REFERENCE_REQUIRED"),
    (502, "PROVIDER_ERROR: the refund stays PENDING, sent again by the next call"),
)
def process(args, refund_id: int):
    """Send a PENDING refund by the original payment's method, or record one paid by hand
    (``method`` MANUAL with its ``reference``: COMPLETED). Card: Paystack ``POST /refund``,
    PROCESSING until its ``refund.processed`` webhook or a status check. M-Pesa: B2C to
    the phone that paid; cash: B2C to the customer's phone; whole shillings rounded up
    (the platform bears the cents, never above what was paid), PROCESSING until M-Pesa's
    result (a timeout stays PROCESSING until Transaction Status answers). A refund already
    sent is answered as it is: nothing is sent twice."""
    return send_refund(
        refund_id,
        actor_id=current_user().id,
        method=args.get("method"),
        reference=args.get("reference"),
    )


@blp.route("/<int:refund_id>/retry", methods=["POST"])
@requires("finance.payments")
@blp.response(200, RefundSchema, message="Refund retried")
@blp.errors(
    (404, "NOT_FOUND"),
    (409, "INVALID_TRANSITION: already completed"),
    (422, "REFUND_EXCEEDS_PAYMENT"),
    (502, "PROVIDER_ERROR"),
)
def retry(refund_id: int):
    """A FAILED refund is sent again by the same method (if it still fits what the
    payment captured); a PROCESSING one is checked with the provider (``GET
    /refund/:id``); a PENDING one is sent."""
    return send_refund(refund_id, actor_id=current_user().id, retry=True)
