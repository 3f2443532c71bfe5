"""The B2C engine: send, results, timeouts, Transaction Status, reconciliation, once."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from app.db import utcnow
from app.disbursements import operations as transfers
from app.disbursements.jobs import reconcile_disbursements
from app.disbursements.models import (
    CallbackOutcome,
    Disbursement,
    DisbursementCallback,
    DisbursementPurpose,
    DisbursementStatus,
)
from app.extensions import db
from app.signals import disbursement_settled, disbursements_sent
from tests import daraja as fake
from tests.concurrency import run_together

S = DisbursementStatus


@contextmanager
def heard():
    """The signals sent: ("sent", id) and ("settled", id, status), in order."""
    events = []

    def on_sent(purpose, *, disbursements, **_):
        events.extend(("sent", d.id) for d in disbursements)

    def on_settled(disbursement, *, status, **_):
        events.append(("settled", disbursement.id, str(status)))

    with disbursements_sent.connected_to(on_sent), disbursement_settled.connected_to(on_settled):
        yield events


def new_transfer(phone="254705912645", amount="1500", subject_id=1) -> int:
    d = transfers.create_disbursement(
        DisbursementPurpose.REFUND,
        subject_id,
        phone=phone,
        amount=Decimal(amount),
        remarks="Refund QG-1",
    )
    db.session.commit()
    return d.id


def load(disbursement_id) -> Disbursement:
    db.session.expire_all()
    return db.session.get(Disbursement, disbursement_id)


def post(client, path, body, **params):
    return client.post(f"/api/payments/b2c/{path}", json=body, query_string=params)


def test_the_simulator_pays_and_calls_back_once():
    d_id = new_transfer()
    with heard() as events:
        outcome = transfers.send([d_id])[d_id]
    d = load(d_id)
    assert outcome.status == "ACCEPTED"
    assert d.status == S.COMPLETED and d.receipt and d.conversation_id
    assert events == [("sent", d_id), ("settled", d_id, "COMPLETED")]


def test_the_simulator_fails_numbers_ending_in_zero():
    d_id = new_transfer(phone="254705912640")
    transfers.send([d_id])
    d = load(d_id)
    assert (d.status, d.result_code, d.receipt) == (S.FAILED, "2040", None)


def test_a_result_settles_once_and_a_duplicate_changes_nothing(client, daraja):
    fake.accept_b2c(daraja)
    d_id = new_transfer()
    with heard() as events:
        transfers.send([d_id])
        d = load(d_id)
        assert d.status == S.SENT and not d.unknown
        body = fake.b2c_success(d.originator_conversation_id, d.conversation_id, 1500)
        first = post(client, "result", body)
        second = post(client, "result", body)
    assert first.status_code == second.status_code == 200
    assert first.get_json() == {"ResultCode": 0, "ResultDesc": "Accepted"}
    d = load(d_id)
    assert (d.status, d.receipt, d.amount_reported) == (S.COMPLETED, "SG632NMUAB", Decimal("1500"))
    assert events == [("sent", d_id), ("settled", d_id, "COMPLETED")]
    outcomes = db.session.scalars(
        select(DisbursementCallback.outcome).order_by(DisbursementCallback.id)
    )
    assert list(outcomes) == [CallbackOutcome.COMPLETED, CallbackOutcome.DUPLICATE]


def test_a_failure_result_fails_the_transfer(client, daraja):
    fake.accept_b2c(daraja)
    d_id = new_transfer()
    transfers.send([d_id])
    d = load(d_id)
    post(client, "result", fake.b2c_failure(d.originator_conversation_id, d.conversation_id))
    d = load(d_id)
    assert (d.status, d.result_code) == (S.FAILED, "2001")
    assert d.result_desc == "The initiator information is invalid."


def test_a_success_for_another_amount_is_flagged_not_completed(client, daraja):
    fake.accept_b2c(daraja)
    d_id = new_transfer()
    transfers.send([d_id])
    d = load(d_id)
    post(client, "result", fake.b2c_success(d.originator_conversation_id, d.conversation_id, 15))
    d = load(d_id)
    assert (d.status, d.unknown, d.amount_reported) == (S.SENT, True, Decimal("15"))


def test_a_wrong_token_is_refused_and_recorded(app, client, daraja):
    fake.accept_b2c(daraja)
    d_id = new_transfer()
    transfers.send([d_id])
    d = load(d_id)
    app.config["MPESA_CALLBACK_TOKEN"] = "s3cret"
    try:
        body = fake.b2c_success(d.originator_conversation_id, d.conversation_id, 1500)
        refused = post(client, "result", body, token="wrong")
        accepted = post(client, "result", body, token="s3cret")
    finally:
        app.config["MPESA_CALLBACK_TOKEN"] = None
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "INVALID_CALLBACK_TOKEN"
    assert accepted.status_code == 200
    callbacks = db.session.scalars(
        select(DisbursementCallback).order_by(DisbursementCallback.id)
    ).all()
    assert [(c.authentic, c.outcome) for c in callbacks] == [
        (False, CallbackOutcome.REJECTED),
        (True, CallbackOutcome.COMPLETED),
    ]


@pytest.mark.parametrize("shape", ["result", "echo"])
def test_a_timeout_is_unknown_and_the_status_query_settles_it(client, daraja, shape):
    fake.accept_b2c(daraja)
    status_call = daraja.post(fake.STATUS_URL, json=fake.status_ack())
    d_id = new_transfer()
    with heard() as events:
        transfers.send([d_id])
        d = load(d_id)
        if shape == "result":
            body = fake.timeout_result_shape(d.originator_conversation_id, d.conversation_id)
        else:
            body = fake.timeout_echo_shape(d.originator_conversation_id, 1500, d.phone)
        assert post(client, "timeout", body).status_code == 200
        d = load(d_id)
        assert (d.status, d.unknown) == (S.SENT, True)

        assert reconcile_disbursements()["queried"] == 0  # not yet 10 minutes
        later = utcnow() + timedelta(minutes=11)
        assert reconcile_disbursements(later)["queried"] == 1
        assert reconcile_disbursements(later)["queried"] == 0  # asked once per 10 minutes
        sent_query = json.loads(status_call.calls[0].request.body)
        assert sent_query["OriginatorConversationID"] == d.originator_conversation_id
        d = load(d_id)
        assert d.status_query_id and d.status == S.SENT

        result = fake.status_completed(d.originator_conversation_id, "1500")
        result["Result"]["ConversationID"] = d.status_query_id
        post(client, "status/result", result)
    d = load(d_id)
    assert (d.status, d.unknown, d.receipt) == (S.COMPLETED, False, "MBN31H462N")
    assert events == [("sent", d_id), ("settled", d_id, "COMPLETED")]


def test_a_status_answer_that_is_not_final_leaves_it_unknown(client, daraja):
    fake.accept_b2c(daraja)
    d_id = new_transfer()
    transfers.send([d_id])
    post(client, "status/result", fake.status_failure())
    post(client, "status/timeout", fake.timeout_result_shape("x", "AG_x"))
    assert load(d_id).status == S.SENT


def test_a_refusal_leaves_it_pending_and_a_timeout_leaves_it_unknown(daraja):
    daraja.post(fake.B2C_URL, status=500, json=fake.error_body())
    d_id = new_transfer()
    with heard() as events:
        refused = transfers.send([d_id])[d_id]
        assert refused.refused and refused.error.status == 502
        d = load(d_id)
        assert (d.status, d.attempts) == (S.PENDING, 1) and "busy" in d.last_error

        daraja.replace("POST", fake.B2C_URL, body=requests.ConnectionError("down"))
        assert transfers.send([d_id])[d_id].refused
        assert load(d_id).status == S.PENDING

        daraja.replace("POST", fake.B2C_URL, body=requests.ReadTimeout("slow"))
        unknown = transfers.send([d_id])[d_id]
        assert unknown.unknown
        d = load(d_id)
        assert (d.status, d.unknown, d.attempts) == (S.SENT, True, 3)
        assert transfers.send([d_id])[d_id].status == "SKIPPED"  # never sent again
    assert events == [("sent", d_id)]


def test_a_duplicate_request_means_it_was_sent(daraja):
    daraja.post(
        fake.B2C_URL,
        status=500,
        json=fake.error_body("500.002.1001", "Duplicate OriginatorConversationID."),
    )
    d_id = new_transfer()
    db.session.execute(
        Disbursement.__table__.update().values(status=S.SENDING).where(Disbursement.id == d_id)
    )
    db.session.commit()
    outcome = transfers.send([d_id], resend_in_flight=True)[d_id]
    assert outcome.unknown
    assert (load(d_id).status, load(d_id).unknown) == (S.SENT, True)


def test_an_early_result_is_kept_and_replayed(client, daraja):
    fake.accept_b2c(daraja)
    body = fake.b2c_success("QG-REFUND-early", "AG_early", 1500)
    assert post(client, "result", body).status_code == 200
    callback = db.session.scalar(select(DisbursementCallback))
    assert callback.outcome == CallbackOutcome.UNKNOWN_TRANSFER
    assert reconcile_disbursements()["replayed"] == 0
    d_id = new_transfer()
    db.session.execute(
        Disbursement.__table__.update()
        .values(originator_conversation_id="QG-REFUND-early", status=S.SENDING)
        .where(Disbursement.id == d_id)
    )
    db.session.commit()
    assert reconcile_disbursements()["replayed"] == 1
    assert load(d_id).status == S.COMPLETED


@pytest.mark.parametrize("body", [b"not json", b"{}", b'{"Result": {"ResultCode": null}}'])
def test_unusable_bodies_are_recorded_and_acknowledged(client, body):
    response = client.post("/api/payments/b2c/result", data=body, content_type="application/json")
    assert response.status_code == 200
    assert db.session.scalar(select(DisbursementCallback.outcome)) == CallbackOutcome.MALFORMED


def test_only_a_pending_transfer_can_be_cancelled(daraja):
    fake.accept_b2c(daraja)
    d_id = new_transfer()
    transfers.send([d_id])
    with pytest.raises(Exception) as refused:
        transfers.cancel_disbursement(load(d_id))
    assert refused.value.code == "INVALID_TRANSITION"
    other = new_transfer(subject_id=2)
    transfers.cancel_disbursement(load(other))
    assert load(other).status == S.CANCELLED


@pytest.mark.postgres
def test_result_timeout_and_status_together_settle_once(app, client, daraja):
    fake.accept_b2c(daraja)
    daraja.post(fake.STATUS_URL, json=fake.status_ack())
    d_id = new_transfer()
    transfers.send([d_id])
    d = load(d_id)
    later = utcnow() + timedelta(minutes=11)
    result = fake.b2c_success(d.originator_conversation_id, d.conversation_id, 1500)
    timeout = fake.timeout_result_shape(d.originator_conversation_id, d.conversation_id)
    status = fake.status_completed(d.originator_conversation_id, "1500")
    with heard() as events:
        answers = run_together(
            app,
            [
                lambda c: post(c, "result", result).status_code,
                lambda c: post(c, "timeout", timeout).status_code,
                lambda c: post(c, "status/result", status).status_code,
                lambda c: post(c, "result", result).status_code,
                lambda c: reconcile_disbursements(later)["errors"],
            ],
        )
    assert answers == [200, 200, 200, 200, 0]
    d = load(d_id)
    assert d.status == S.COMPLETED
    assert [e for e in events if e[0] == "settled"] == [("settled", d_id, "COMPLETED")]
