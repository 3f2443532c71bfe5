"""Supplier portal: returns of your products"""

from __future__ import annotations

from app.api import Blueprint
from app.auth.access import current_user, supplier_required
from app.extensions import db
from app.pagination import paginate
from app.returns import operations, stats
from app.returns.routes import LIST_LOADS
from app.returns.schemas import (
    NoteSchema,
    PeriodSchema,
    RespondSchema,
    ReturnDetailSchema,
    ReturnQuerySchema,
    ReturnSchema,
    ReturnStatsSchema,
)

blp = Blueprint(
    "supplier_returns",
    __name__,
    url_prefix="/api/supplier/returns",
    description="Supplier portal: returns of your products (anyone else's is 404)",
)


@blp.route("", methods=["GET"])
@supplier_required
@blp.arguments(ReturnQuerySchema, location="query")
@blp.response(200, ReturnSchema, paginated=True)
def list_supplier_returns(params):
    """Returns of your products, newest first (filters ``status``, ``reason``, ``type``,
    ``from``, ``to``)."""
    statement = operations.list_statement(current_user(), params).options(*LIST_LOADS)
    return paginate(statement, params)


@blp.route("/stats", methods=["GET"])
@supplier_required
@blp.arguments(PeriodSchema, location="query")
@blp.response(200, ReturnStatsSchema)
def supplier_return_stats(params):
    """Your returns' statistics (as ``GET /returns/stats``)."""
    return stats.return_stats(params, current_user().supplier_profile.id)


@blp.route("/<int:return_id>", methods=["GET"])
@supplier_required
@blp.response(200, ReturnDetailSchema)
@blp.errors((404, "NOT_FOUND"))
def get_supplier_return(return_id: int):
    """One return of your products, with its timeline."""
    return operations.find_return(current_user(), return_id)


@blp.route("/<int:return_id>/acknowledge", methods=["POST"])
@supplier_required
@blp.arguments(NoteSchema)
@blp.response(200, ReturnDetailSchema, message="Return acknowledged")
@blp.errors((404, "NOT_FOUND"), (409, "INVALID_TRANSITION"))
def acknowledge_return(args, return_id: int):
    """You have seen it: SUPPLIER_REVIEW. Answer before ``supplier_respond_by``
    (``SUPPLIER_RETURN_RESPONSE_HOURS`` after the request), or it goes to admin review."""
    ret = operations.acknowledge(current_user(), return_id, args.get("note"))
    db.session.commit()
    return ret


@blp.route("/<int:return_id>/respond", methods=["POST"])
@supplier_required
@blp.arguments(RespondSchema)
@blp.response(200, ReturnDetailSchema, message="Response recorded")
@blp.errors(
    (404, "NOT_FOUND"),
    (409, "INVALID_TRANSITION: no longer waiting on you"),
    (422, "RESOLUTION_REQUIRED, RESOLUTION_NOT_APPLICABLE, INSUFFICIENT_STOCK"),
)
def respond_to_return(args, return_id: int):
    """``ACCEPT`` approves the return (its refund is recorded due and your share is
    debited, per the refund policy); for a WARRANTY claim choose a ``resolution``:
    REPAIR, REPLACEMENT (a free shipment to the customer) or REFUND. ``DISPUTE`` with a
    ``reason`` sends it to an admin."""
    ret = operations.respond(current_user(), return_id, args)
    db.session.commit()
    return ret
