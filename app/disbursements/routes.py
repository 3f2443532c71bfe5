"""M-Pesa B2C callbacks: results, queue timeouts and Transaction Status answers"""

from __future__ import annotations

import logging

from flask import current_app, jsonify, request

from app.api import Blueprint
from app.disbursements import operations as ops
from app.disbursements.models import CallbackKind, CallbackOutcome, DisbursementCallback
from app.disbursements.schemas import B2CAckSchema, B2CResultBodySchema
from app.errors import Forbidden
from app.extensions import db
from app.services.mpesa import callback_token_matches

log = logging.getLogger(__name__)
blp = Blueprint(
    "disbursements",
    __name__,
    url_prefix="/api/payments/b2c",
    description="M-Pesa B2C callbacks: results, queue timeouts and Transaction Status answers",
)

DOC = (
    "Stored as received, then acted on once per transfer (OriginatorConversationID / "
    'ConversationID). Answers 200 `{"ResultCode": 0, "ResultDesc": "Accepted"}` (not the '
    "envelope) for every recorded body, duplicates, unknown ids (kept for reconciliation) "
    "and unusable bodies included; 403 when `MPESA_CALLBACK_TOKEN` is set and `?token=` "
    "does not match (still recorded)."
)


def _receive(kind: CallbackKind):
    authentic = callback_token_matches(
        current_app.config["MPESA_CALLBACK_TOKEN"], request.args.get("token", "")
    )
    callback = ops.record_callback(kind, request.get_data(), authentic=authentic)
    db.session.commit()  # stored before anything acts on it
    if not authentic:
        raise Forbidden("Invalid callback token", code="INVALID_CALLBACK_TOKEN")
    callback_id = callback.id
    try:
        ops.handle_callback(db.session.get(DisbursementCallback, callback_id))
        db.session.commit()
    except Exception:  # recorded; the reconcile job asks M-Pesa again
        db.session.rollback()
        log.exception("B2C callback %s could not be processed", callback_id)
        callback = db.session.get(DisbursementCallback, callback_id)
        callback.outcome, callback.detail = CallbackOutcome.ERROR, "Processing failed; see the log"
        db.session.commit()
    return jsonify(ResultCode=0, ResultDesc="Accepted")


def _doc(summary: str) -> dict:
    return {
        "security": [],
        "summary": summary,
        "description": DOC,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": B2CResultBodySchema}},
        },
    }


@blp.route("/result", methods=["POST"])
@blp.doc(**_doc("A B2C Result (ResultURL)"))
@blp.alt_response(200, schema=B2CAckSchema, description="Recorded")
@blp.alt_response(403, description="Missing or wrong callback token (still recorded)")
def b2c_result():
    return _receive(CallbackKind.B2C_RESULT)


@blp.route("/timeout", methods=["POST"])
@blp.doc(**_doc("A B2C queue timeout (QueueTimeOutURL): the outcome is unknown, not failed"))
@blp.alt_response(200, schema=B2CAckSchema, description="Recorded")
@blp.alt_response(403, description="Missing or wrong callback token (still recorded)")
def b2c_timeout():
    return _receive(CallbackKind.B2C_TIMEOUT)


@blp.route("/status/result", methods=["POST"])
@blp.doc(**_doc("A Transaction Status Result for a transfer in flight"))
@blp.alt_response(200, schema=B2CAckSchema, description="Recorded")
@blp.alt_response(403, description="Missing or wrong callback token (still recorded)")
def status_result():
    return _receive(CallbackKind.STATUS_RESULT)


@blp.route("/status/timeout", methods=["POST"])
@blp.doc(**_doc("A Transaction Status queue timeout: the transfer stays unknown"))
@blp.alt_response(200, schema=B2CAckSchema, description="Recorded")
@blp.alt_response(403, description="Missing or wrong callback token (still recorded)")
def status_timeout():
    return _receive(CallbackKind.STATUS_TIMEOUT)
