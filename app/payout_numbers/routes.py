"""Payout numbers: a supplier's or delivery agent's own, and admins' decisions"""

from __future__ import annotations

from app.api import Blueprint
from app.auth.access import (
    current_user,
    delivery_agent_required,
    requires,
    verified_supplier_required,
)
from app.errors import NotFound
from app.extensions import db
from app.ledger.models import Party
from app.payout_numbers import operations as ops
from app.payout_numbers.schemas import (
    AdminRequestSchema,
    NumberChangeSchema,
    NumberStateSchema,
    PayoutNumberRequestSchema,
    RejectSchema,
    RequestQuerySchema,
)

blp = Blueprint(
    "payout_numbers",
    __name__,
    url_prefix="/api",
    description="Payout numbers: the first takes effect at once; a change waits for an admin",
)

CHANGE_DOC = """The first number takes effect at once (``outcome`` SET). A later change is a request
(``outcome`` REQUESTED): payouts keep going to the current number until an admin
(ADMIN or FINANCE_ADMIN) approves it. A new request replaces your open one; asking again
for the number already asked for changes nothing (UNCHANGED); your current number is 422
``PAYOUT_NUMBER_UNCHANGED``. You are told in the app and by email at every step."""


def _own_supplier():
    return ops.supplier_payee(current_user().supplier_profile.id, lock=True)


def _request(payee, data):
    result = ops.request_change(payee, data["mpesa_number"])
    db.session.commit()
    return result


@blp.route("/supplier/profile/payment-phone", methods=["PUT"])
@blp.response(200, NumberStateSchema, message="Payout number updated")
@blp.alt_response(422, description="That is already your payout number")
@blp.doc(description=CHANGE_DOC)
@verified_supplier_required
@blp.arguments(NumberChangeSchema)
def supplier_request(data):
    """Set or change your payout number (suppliers)."""
    return _request(_own_supplier(), data)


@blp.route("/payments/supplier/<int:supplier_id>/update-mpesa", methods=["PUT"])
@blp.response(200, NumberStateSchema, message="Payout number updated")
@blp.alt_response(404, description="Not your supplier profile")
@blp.alt_response(422, description="That is already your payout number")
@blp.doc(description=CHANGE_DOC)
@verified_supplier_required
@blp.arguments(NumberChangeSchema)
def supplier_request_by_id(data, supplier_id):
    """The same as ``PUT /supplier/profile/payment-phone``: ``supplier_id`` is your
    supplier profile id (another's: 404)."""
    if supplier_id != current_user().supplier_profile.id:
        raise NotFound("Supplier not found")
    return _request(_own_supplier(), data)


@blp.route("/supplier/profile/payment-phone/cancel", methods=["POST"])
@blp.response(200, NumberStateSchema, message="Payout number change withdrawn")
@blp.alt_response(404, description="No pending change")
@verified_supplier_required
def supplier_cancel():
    """Withdraw your pending payout number change (suppliers)."""
    result = ops.cancel_change(_own_supplier())
    db.session.commit()
    return result


@blp.route("/delivery/agent/update-mpesa", methods=["PUT"])
@blp.response(200, NumberStateSchema, message="Payout number updated")
@blp.alt_response(404, description="No delivery agent profile")
@blp.alt_response(422, description="That is already your payout number")
@blp.doc(description=CHANGE_DOC)
@delivery_agent_required
@blp.arguments(NumberChangeSchema)
def agent_request(data):
    """Set or change your payout number (delivery agents)."""
    return _request(ops.agent_payee(current_user().id, lock=True), data)


@blp.route("/delivery/agent/update-mpesa/cancel", methods=["POST"])
@blp.response(200, NumberStateSchema, message="Payout number change withdrawn")
@blp.alt_response(404, description="No pending change")
@delivery_agent_required
def agent_cancel():
    """Withdraw your pending payout number change (delivery agents)."""
    result = ops.cancel_change(ops.agent_payee(current_user().id, lock=True))
    db.session.commit()
    return result


# ---- admins: ADMIN and FINANCE_ADMIN ------------------------------------------------


@blp.route("/admin/payment-phone-requests", methods=["GET"])
@requires("finance.payments")
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, AdminRequestSchema, paginated=True)
def list_requests(params):
    """Payout number change requests, newest first, each naming its party (ADMIN,
    FINANCE_ADMIN). ``status`` is PENDING unless given; ``party`` SUPPLIER or AGENT."""
    return ops.list_requests(params)


def _decide(party: Party, party_id: int, approve: bool, reason: str | None = None):
    request = ops.decide(
        ops.payee(party, party_id, lock=True), approve=approve, admin=current_user(), reason=reason
    )
    db.session.commit()
    return request


DECISION_ERRORS = (
    (404, "No such party, or it never asked for a change"),
    (409, "The latest request is already decided or withdrawn"),
)


_documented = blp.errors(*DECISION_ERRORS)


@blp.route("/admin/payment-phone-requests/<int:supplier_id>/approve", methods=["POST"])
@blp.response(200, PayoutNumberRequestSchema, message="Payout number change approved")
@_documented
@requires("finance.payments")
def approve_supplier(supplier_id):
    """Approve a supplier's pending change (by supplier profile id): payouts go to the new
    number from now on (ADMIN, FINANCE_ADMIN). Another decision already made: 409."""
    return _decide(Party.SUPPLIER, supplier_id, approve=True)


@blp.route("/admin/payment-phone-requests/<int:supplier_id>/reject", methods=["POST"])
@blp.response(200, PayoutNumberRequestSchema, message="Payout number change rejected")
@_documented
@requires("finance.payments")
@blp.arguments(RejectSchema)
def reject_supplier(data, supplier_id):
    """Reject a supplier's pending change, with an optional ``reason`` told to them
    (ADMIN, FINANCE_ADMIN). Another decision already made: 409."""
    return _decide(Party.SUPPLIER, supplier_id, approve=False, reason=data["reason"])


@blp.route("/admin/payment-phone-requests/agent/<int:user_id>/approve", methods=["POST"])
@blp.response(200, PayoutNumberRequestSchema, message="Payout number change approved")
@_documented
@requires("finance.payments")
def approve_agent(user_id):
    """Approve a delivery agent's pending change (by the agent's user id)."""
    return _decide(Party.AGENT, user_id, approve=True)


@blp.route("/admin/payment-phone-requests/agent/<int:user_id>/reject", methods=["POST"])
@blp.response(200, PayoutNumberRequestSchema, message="Payout number change rejected")
@_documented
@requires("finance.payments")
@blp.arguments(RejectSchema)
def reject_agent(data, user_id):
    """Reject a delivery agent's pending change, with an optional ``reason``."""
    return _decide(Party.AGENT, user_id, approve=False, reason=data["reason"])
