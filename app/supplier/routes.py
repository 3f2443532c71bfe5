"""The supplier portal: an approved supplier's statement and balances"""

from __future__ import annotations

from flask import send_file

from app import spreadsheets
from app.api import Blueprint, envelope_schema
from app.auth.access import current_user, supplier_required
from app.ledger.operations import supplier_balances
from app.supplier import operations as ops
from app.supplier.schemas import BalancesSchema, StatementQuerySchema, StatementRowSchema

# The documented 200: a page of rows, or with ``format=csv`` the whole range as a file.
STATEMENT_PAGE = envelope_schema(StatementRowSchema, many=False, paginated=True)

blp = Blueprint(
    "supplier",
    __name__,
    url_prefix="/api/supplier",
    description="The supplier portal: an approved supplier's statement and balances",
)


@blp.route("/ledger", methods=["GET"])
@blp.doc(
    responses={
        "200": {
            "description": "A page of the statement, or with ``format=csv`` the whole range.",
            "content": {
                "application/json": {"schema": STATEMENT_PAGE},
                spreadsheets.CSV_TYPE: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
)
@supplier_required
@blp.arguments(StatementQuerySchema, location="query")
@blp.response(200, StatementRowSchema, paginated=True)
def get_ledger(params):
    """Your statement: every movement of what the platform owes you, oldest first.

    One row per ledger line on your accounts (``ON_HOLD``, ``AVAILABLE``, ``IN_FLIGHT``):
    ``amount`` is positive when the platform owes you more, and ``balance`` is what it owes
    you in all (on hold + available + in flight) after that row, counting everything before
    ``from``. ``from``/``to`` are whole UTC days, inclusive. ``format=csv`` downloads the
    whole range as one file.
    """
    supplier_id = current_user().supplier_profile.id
    if params["format"] == "csv":
        content, mimetype, filename = ops.statement_csv(supplier_id, params)
        return send_file(content, mimetype=mimetype, as_attachment=True, download_name=filename)
    return ops.statement_page(supplier_id, params)


@blp.route("/balances", methods=["GET"])
@supplier_required
@blp.response(200, BalancesSchema)
def get_balances():
    """What the platform owes you now, by account, and what it has paid you so far."""
    return supplier_balances(current_user().supplier_profile.id)
