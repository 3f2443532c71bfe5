"""Scheduled payout runs: batched, resumable, once per period."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, func, select

from app.disbursements import operations as transfers
from app.disbursements.models import Disbursement, DisbursementStatus
from app.extensions import db
from app.ledger.models import Party
from app.ledger.operations import supplier_balances
from app.payouts.jobs import current_period, run_supplier_payouts
from app.payouts.models import Payout, PayoutStatus
from app.payouts.runs import run_payouts, supplier_eligibility
from app.scheduler import execute, find_job, slot_for
from tests import daraja as fake
from tests.concurrency import run_together
from tests.factories.auth import SupplierProfileFactory
from tests.factories.payouts import earn, paying_supplier


def statuses():
    db.session.expire_all()
    return dict(db.session.execute(select(Payout.supplier_id, Payout.status)).all())


def test_the_period_is_the_last_scheduled_time(app):
    monday = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)  # 07:00 in Nairobi
    assert current_period(monday) == "2026-12-07T07:00"
    assert current_period(datetime(2026, 12, 9, 12, 0, tzinfo=UTC)) == "2026-12-07T07:00"
    assert current_period(datetime(2026, 12, 7, 3, 59, tzinfo=UTC)) == "2026-11-30T07:00"
    job = find_job("run_supplier_payouts")
    assert job.cron == "payout_schedule"
    assert slot_for(job, monday) == current_period(monday)  # the slot is the period


def test_a_run_pays_the_eligible_once(assert_books_balance):
    paid = paying_supplier()
    failing = paying_supplier(mpesa_payout_number="254711111110")
    below = paying_supplier()
    no_terms = SupplierProfileFactory(mpesa_payout_number="254722222221")
    pending = paying_supplier(pending=True)
    earn(paid.id, "1234.56")
    earn(failing.id, "300.00")
    earn(below.id, "99.99")
    earn(no_terms.id, "500.00")
    earn(pending.id, "500.00")

    summary = run_supplier_payouts("2026-12-07T07:00")

    assert (summary.payouts, summary.accepted, summary.batches) == (2, 2, 1)
    assert statuses() == {paid.id: PayoutStatus.COMPLETED, failing.id: PayoutStatus.FAILED}
    assert supplier_balances(paid.id).available == Decimal("0.56")
    assert supplier_balances(failing.id).available == Decimal("300.00")
    again = run_supplier_payouts("2026-12-07T07:00")
    assert again.payouts == 0  # once per period, the failed one included
    assert run_supplier_payouts("2026-12-14T07:00").payouts == 1  # the failed one, next period
    assert_books_balance()


def test_statements_grow_with_batches_not_suppliers(app, daraja):
    fake.accept_b2c(daraja)

    def statements(count: int, period: str) -> tuple[int, int]:
        for _ in range(count):
            earn(paying_supplier().id, "150.00")
        seen = []

        def count_it(*args, **kwargs):
            seen.append(1)

        event.listen(db.engine, "before_cursor_execute", count_it)
        try:
            summary = run_payouts(
                Party.SUPPLIER, supplier_eligibility(Decimal("100")), period=period, batch_size=10
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", count_it)
        return summary.batches, len(seen)

    few = statements(3, "p1")
    more = statements(9, "p2")  # the first 3 are in flight: not payable again
    assert few[0] == more[0] == 1
    assert few[1] == more[1]
    most = statements(25, "p3")  # 3 batches: 10, 10, 5
    assert most[0] == 3
    assert most[1] <= 3 * few[1]


def test_a_run_killed_half_way_pays_nobody_twice_and_skips_nobody(daraja):
    sent = fake.accept_b2c(daraja)
    suppliers = [paying_supplier() for _ in range(5)]
    for supplier in suppliers:
        earn(supplier.id, "200.00")
    # A run died after creating the first batch: one transfer PENDING, one SENDING.
    summary = run_payouts(
        Party.SUPPLIER, supplier_eligibility(Decimal("100")), period="p", batch_size=2
    )
    assert summary.payouts == 5 and len(sent.calls) == 5
    d = db.session.scalars(select(Disbursement).order_by(Disbursement.id)).all()
    # Undo what the "dead" run recorded for the last two: left as a crash leaves them.
    for row, status in ((d[3], DisbursementStatus.PENDING), (d[4], DisbursementStatus.SENDING)):
        db.session.execute(
            Disbursement.__table__.update()
            .where(Disbursement.id == row.id)
            .values(status=status, conversation_id=None)
        )
        db.session.execute(
            Payout.__table__.update()
            .where(Payout.disbursement_id == row.id)
            .values(status=PayoutStatus.PENDING)
        )
    db.session.commit()
    again = run_payouts(Party.SUPPLIER, supplier_eligibility(Decimal("100")), period="p")
    assert (again.resumed, again.payouts) == (2, 0)
    originators = [call.request.body for call in sent.calls]
    assert len(originators) == 7
    resent = {fake_id(body) for body in originators[5:]}
    assert resent == {d[3].originator_conversation_id, d[4].originator_conversation_id}
    assert set(statuses().values()) == {PayoutStatus.PROCESSING}
    assert db.session.scalar(select(func.count(Payout.id))) == 5


def fake_id(body) -> str:
    import json

    return json.loads(body)["OriginatorConversationID"]


def test_a_refused_run_leaves_payouts_pending_for_the_next(daraja):
    daraja.post(fake.B2C_URL, status=500, json=fake.error_body())
    supplier = paying_supplier()
    earn(supplier.id, "200.00")
    summary = run_supplier_payouts("p")
    assert (summary.payouts, summary.refused) == (1, 1)
    assert statuses() == {supplier.id: PayoutStatus.PENDING}
    assert supplier_balances(supplier.id).available == Decimal("200.00")
    daraja.replace("POST", fake.B2C_URL, status=200, json={})
    fake.accept_b2c(daraja)
    daraja.remove("POST", fake.B2C_URL)
    fake.accept_b2c(daraja)
    summary = run_supplier_payouts("p")
    assert (summary.resumed, summary.accepted) == (1, 1)
    assert statuses() == {supplier.id: PayoutStatus.PROCESSING}


def test_a_pending_transfer_cannot_be_claimed_twice(daraja):
    fake.accept_b2c(daraja)
    supplier = paying_supplier()
    earn(supplier.id, "200.00")
    run_supplier_payouts("p")
    payout = db.session.scalar(select(Payout))
    assert transfers.send([payout.disbursement_id])[payout.disbursement_id].status == "SKIPPED"


@pytest.mark.postgres
def test_two_workers_run_the_payouts_once(app, daraja):
    sent = fake.accept_b2c(daraja)
    for _ in range(30):
        earn(paying_supplier().id, "200.00")
    job = find_job("run_supplier_payouts")

    def worker(_client):
        return execute(job, "2026-12-07T07:00")

    runs = run_together(app, [worker, worker])
    assert sorted(run is None for run in runs) == [False, True]
    assert len(sent.calls) == 30
    assert db.session.scalar(select(func.count(Payout.id))) == 30


@pytest.mark.postgres
def test_a_run_and_a_manual_generate_at_once_pay_once(app, daraja):
    sent = fake.accept_b2c(daraja)
    for _ in range(30):
        earn(paying_supplier().id, "200.00")

    def worker(_client):
        summary = run_supplier_payouts("p")
        return summary.skipped

    run_together(app, [worker, worker])
    assert len(sent.calls) == 30
    assert db.session.scalar(select(func.count(Payout.id))) == 30
