"""Payouts: paying suppliers by M-Pesa B2C, on a schedule or on demand"""

from __future__ import annotations

from app.api import Blueprint
from app.auth.access import current_user, requires, supplier_required
from app.common.idempotency import idempotent
from app.extensions import db
from app.pagination import PaginationSchema
from app.payouts import operations as ops
from app.payouts import queries
from app.payouts.jobs import run_supplier_payouts
from app.payouts.models import PayoutMethod
from app.payouts.schemas import (
    BatchRequestSchema,
    BatchResultSchema,
    ManualPayoutSchema,
    PayoutListQuerySchema,
    PayoutRequestSchema,
    PayoutSchema,
    PendingPayoutSchema,
    PendingSupplierSchema,
    RunSummarySchema,
)

blp = Blueprint(
    "payouts",
    __name__,
    url_prefix="/api",
    description="Payouts: paying suppliers by M-Pesa B2C, on a schedule or on demand",
)

SEND_ERRORS = {
    "_400": "VALIDATION_ERROR: cents, below 10, not a number",
    "_404": "NOT_FOUND: no such (approved) supplier or payout",
    "_409": "PAYOUT_IN_PROGRESS: one is open for this payee; INVALID_TRANSITION",
    "_422": "INSUFFICIENT_BALANCE, PAYOUT_NUMBER_MISSING, TERMS_NOT_ACCEPTED",
    "_502": "PROVIDER_ERROR: M-Pesa down or refusing (details.payout_id: left PENDING) "
    "or silent (details.unknown: in flight, checked with Transaction Status)",
}


def _supplier_id() -> int:
    return current_user().supplier_profile.id


# -- the supplier's side ------------------------------------------------------------


@blp.route("/supplier/payouts", methods=["GET"])
@supplier_required
@blp.arguments(PaginationSchema, location="query")
@blp.response(200, PayoutSchema, paginated=True)
def my_payouts(params):
    """Your payouts, newest first: status, amount, receipt, failure reason."""
    return queries.payouts_page(params, supplier_id=_supplier_id())


@blp.route("/payments/supplier/payouts", methods=["GET"])
@supplier_required
@blp.arguments(PaginationSchema, location="query")
@blp.response(200, PayoutSchema, paginated=True)
def my_payouts_seed_path(params):
    """The seed's path for ``GET /supplier/payouts``."""
    return queries.payouts_page(params, supplier_id=_supplier_id())


@blp.route("/supplier/payouts/pending", methods=["GET"])
@supplier_required
@blp.response(200, PendingPayoutSchema)
def my_pending_payout():
    """What the next payout run would pay you (whole shillings of your available
    balance, if it reaches the minimum), what blocks it, and what is still on hold with
    when each part is released."""
    return queries.pending_payout(current_user().supplier_profile)


# -- finance -------------------------------------------------------------------------


def _pay(supplier_id: int, amount):
    payout = ops.pay_supplier(supplier_id, amount, actor_id=current_user().id)
    return ops.dispatch(payout)


@blp.route("/payments/supplier/payout", methods=["POST"])
@requires("finance.payments")
@idempotent
@blp.arguments(PayoutRequestSchema)
@blp.response(201, PayoutSchema, message="Payout sent")
@blp.fails(**SEND_ERRORS)
def pay_supplier(args):
    """Pay a supplier now by M-Pesa B2C (ADMIN, FINANCE_ADMIN; honours
    ``Idempotency-Key``). 201: the request was accepted; the payout is PROCESSING until
    M-Pesa's result completes or fails it (with the simulator it is COMPLETED at once)."""
    return _pay(args["supplier_id"], args["amount"])


@blp.route("/delivery/admin/suppliers/<int:supplier_id>/pay-now", methods=["POST"])
@requires("finance.payments")
@idempotent
@blp.response(201, PayoutSchema, message="Payout sent")
@blp.fails(**SEND_ERRORS)
def pay_now(supplier_id: int):
    """The pay-now screen: the same as ``POST /payments/supplier/payout`` for the whole
    available balance."""
    return _pay(supplier_id, None)


@blp.route("/delivery/admin/suppliers/pending-payments", methods=["GET"])
@requires("finance.payments")
@blp.arguments(PaginationSchema, location="query")
@blp.response(200, PendingSupplierSchema, paginated=True)
def suppliers_owed(params):
    """Suppliers with money available, most owed first, with what a payout would carry."""
    return queries.suppliers_owed(params)


@blp.route("/admin/payouts", methods=["GET"])
@requires("finance.payments")
@blp.arguments(PayoutListQuerySchema, location="query")
@blp.response(200, PayoutSchema, paginated=True)
def list_payouts(params):
    """Every payout, newest first; filters ``status``, ``supplier_id``, ``from``, ``to``
    (creation days, UTC)."""
    return queries.payouts_page(params)


@blp.route("/admin/payouts/generate", methods=["POST"])
@requires("finance.payments")
@blp.response(200, RunSummarySchema, message="Payout run finished")
def generate_payouts():
    """Run the scheduled supplier payouts now for the current period (the job's code):
    suppliers already paid this period are not paid again; payouts an earlier run left
    PENDING are sent again."""
    return run_supplier_payouts()


@blp.route("/admin/payouts/<int:payout_id>/mpesa", methods=["POST"])
@requires("finance.payments")
@blp.response(200, PayoutSchema, message="Payout sent")
@blp.fails(**SEND_ERRORS)
def send_payout(payout_id: int):
    """Send a PENDING payout, or retry a FAILED one (a new OriginatorConversationID, to
    the supplier's current number, if the money is still available). One in flight is
    never sent again: 409."""
    payout = ops.prepare_resend(payout_id, actor_id=current_user().id)
    return ops.dispatch(payout)


@blp.route("/admin/payouts/<int:payout_id>/cancel", methods=["POST"])
@requires("finance.payments")
@blp.response(200, PayoutSchema, message="Payout cancelled")
@blp.fails(_404="NOT_FOUND", _409="INVALID_TRANSITION: only PENDING or FAILED payouts")
def cancel_payout(payout_id: int):
    """Cancel a payout never sent (PENDING) or confirmed failed (FAILED)."""
    payout = ops.cancel_payout(payout_id, actor_id=current_user().id)
    db.session.commit()
    return payout


@blp.route("/admin/payouts/<int:payout_id>/process", methods=["PUT"])
@requires("finance.payments")
@blp.arguments(ManualPayoutSchema)
@blp.response(200, PayoutSchema, message="Payout recorded as paid")
@blp.fails(
    _404="NOT_FOUND",
    _409="INVALID_TRANSITION: only PENDING or FAILED payouts",
    _422="INSUFFICIENT_BALANCE",
)
def process_payout(args, payout_id: int):
    """Record a payout made outside the API (bank transfer, M-Pesa portal, cash) with its
    reference: the same ledger entries as a B2C payout; the supplier is told."""
    payout = ops.process_manually(
        payout_id, PayoutMethod(args["method"]), args["reference"], actor_id=current_user().id
    )
    db.session.commit()
    return payout


@blp.route("/admin/payouts/batch-mpesa", methods=["POST"])
@requires("finance.payments")
@blp.arguments(BatchRequestSchema)
@blp.response(200, BatchResultSchema(many=True), message="Batch processed")
def batch_send(args):
    """Send or retry several payouts, each on its own: one result per id (``ok``, the
    payout's status, the error's code and message)."""
    return queries.send_many(args["ids"], actor_id=current_user().id)
