"""Races on PostgreSQL: double clicks, two admins, a webhook racing a status check, two
customers' requests for the last unit; one thread each."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from sqlalchemy import func, select

from app.auth.models import UserRole
from app.db import utcnow
from app.extensions import db
from app.ledger.jobs import release_earnings
from app.ledger.models import LedgerEntry
from app.ledger.operations import supplier_balances
from app.orders.models import PaymentMethod
from app.payments.models import Payment, Refund
from app.returns.models import ReturnEvent, ReturnReason, ReturnRequest
from app.services.paystack import PaystackClient
from tests.concurrency import run_together
from tests.factories.catalog import ProductFactory
from tests.factories.payments import PAYSTACK, paystack_refund, refund_event
from tests.factories.returns import delivered_order, request_return
from tests.payments.conftest import post_webhook

pytestmark = pytest.mark.postgres


@pytest.fixture
def card_return(app, monkeypatch, customer, role_user):
    """An approved return of a card order (KES 1,499.99), its refund PENDING."""
    monkeypatch.setitem(
        app.extensions, "paystack", PaystackClient(secret_key="sk_test_fake", base_url=PAYSTACK)
    )
    phone = ProductFactory(price=Decimal("1499.99"))
    order = delivered_order(customer, [(phone, 2)], method=PaymentMethod.CARD)
    ret = request_return(order, reason=ReturnReason.WRONG_ITEM)
    from app.returns.operations import review

    review(role_user(UserRole.ADMIN), ret.id, "APPROVE", None)
    db.session.commit()
    return ret


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@responses.activate
def test_a_double_click_on_process_refund_calls_paystack_once(
    app, card_return, role_user, auth_headers
):
    payment = db.session.scalar(select(Payment))
    responses.post(
        f"{PAYSTACK}/refund", json=paystack_refund(amount=149999, reference=payment.reference)
    )
    heads = [auth_headers(role_user(UserRole.FINANCE_ADMIN)) for _ in range(4)]
    path = f"/api/admin/returns/{card_return.id}/process-refund"

    def click(headers):
        def action(client):
            response = client.post(path, json={}, headers=headers)
            body = response.json
            return response.status_code, body["data"]["refund"]["status"] if body[
                "success"
            ] else body

        return action

    results = run_together(app, [click(h) for h in heads])

    assert results == [(200, "PROCESSING")] * 4
    assert len(responses.calls) == 1
    assert count(Refund, Refund.status == "PROCESSING") == 1


@responses.activate
def test_a_webhook_racing_a_status_check_completes_the_refund_once(
    app, card_return, role_user, auth_headers, assert_books_balance
):
    payment = db.session.scalar(select(Payment))
    refund = db.session.scalar(select(Refund))
    responses.post(
        f"{PAYSTACK}/refund", json=paystack_refund(amount=149999, reference=payment.reference)
    )
    fetched = paystack_refund(amount=149999)["data"] | {"status": "processed"}
    responses.get(
        f"{PAYSTACK}/refund/3018284",
        json={"status": True, "message": "Refund retrieved", "data": fetched},
    )
    finance = auth_headers(role_user(UserRole.FINANCE_ADMIN))
    from app.payments.refunds import process_refund

    refund_id = refund.id
    process_refund(refund_id, actor_id=None)
    db.session.commit()
    body = refund_event("refund.processed", payment.reference, 149999)

    def webhook(client):
        return post_webhook(app, client, body).status_code

    def status_check(client):
        response = client.post(f"/api/admin/refunds/{refund_id}/retry", headers=finance)
        return response.status_code  # 409 once it is completed: nothing left to check

    results = run_together(app, [webhook, status_check, webhook, status_check])

    assert results[0] == results[2] == 200
    assert {results[1], results[3]} <= {200, 409}
    assert count(Refund, Refund.status == "COMPLETED") == 1
    assert count(LedgerEntry, LedgerEntry.event_key == f"refund-settled:{refund_id}") == 1
    assert count(ReturnEvent, ReturnEvent.to_status == "REFUND_COMPLETED") == 1
    assert_books_balance()


def test_two_admins_deciding_at_once_decide_once(app, customer, role_user, auth_headers):
    phone = ProductFactory(price=Decimal("800.00"))
    order = delivered_order(customer, [(phone, 1)])
    path = f"/api/returns/{request_return(order).id}/review"
    admins = [auth_headers(role_user(UserRole.ADMIN)) for _ in range(4)]

    def decide(decision, headers):
        def action(client):
            return client.put(
                path,
                json={"decision": decision, "reason": "Looked at the photos"},
                headers=headers,
            ).status_code

        return action

    results = run_together(
        app, [decide(d, h) for d, h in zip(["APPROVE", "REJECT"] * 2, admins, strict=True)]
    )

    assert sorted(results) == [200, 409, 409, 409]
    assert count(Refund) == count(ReturnRequest, ReturnRequest.status == "APPROVED")
    assert count(ReturnEvent, ReturnEvent.to_status.in_(["APPROVED", "REJECTED"])) == 1


def test_two_requests_for_the_last_unit_make_one_return(app, customer, auth_headers):
    phone = ProductFactory(price=Decimal("800.00"))
    order = delivered_order(customer, [(phone, 1)])
    headers = auth_headers(customer)
    payload = {
        "order_id": order.id,
        "order_item_id": order.items[0].id,
        "quantity": 1,
        "reason": "WRONG_ITEM",
    }

    def ask(client):
        response = client.post("/api/returns", json=payload, headers=headers)
        return response.status_code

    assert sorted(run_together(app, [ask] * 4)) == [201, 422, 422, 422]
    assert count(ReturnRequest) == 1


def test_a_return_approved_while_the_hold_is_released_counts_the_money_once(
    app, customer, supplier, role_user, assert_books_balance
):
    phone = ProductFactory(supplier=supplier.supplier_profile, price=Decimal("1000.00"))
    order = delivered_order(customer, [(phone, 2)])
    return_id = request_return(order, reason=ReturnReason.WRONG_ITEM).id
    admin_id = role_user(UserRole.ADMIN).id
    supplier_id = supplier.supplier_profile.id
    later = utcnow() + timedelta(days=30)

    def release(client):
        released = release_earnings(now=later)
        db.session.commit()
        return released

    def approve(client):
        from app.auth.models import User
        from app.returns.operations import review

        review(db.session.get(User, admin_id), return_id, "APPROVE", None)
        db.session.commit()
        return "approved"

    run_together(app, [release, approve])

    balances = supplier_balances(supplier_id)
    assert balances.on_hold == 0
    assert balances.available == Decimal("900.00")  # 2 x 900 earned, 1 x 900 taken back
    assert_books_balance()


def test_a_double_click_on_an_mpesa_refund_sends_one_b2c_transfer(
    app, daraja, customer, role_user, auth_headers
):
    from app.disbursements.models import Disbursement
    from app.returns.operations import review
    from tests import daraja as fake

    order = delivered_order(customer, [(ProductFactory(price=Decimal("700.00")), 2)])
    ret = request_return(order)
    review(role_user(UserRole.ADMIN), ret.id, "APPROVE", None)
    db.session.commit()
    sent = fake.accept_b2c(daraja)
    heads = [auth_headers(role_user(UserRole.FINANCE_ADMIN)) for _ in range(4)]
    path = f"/api/admin/returns/{ret.id}/process-refund"

    def click(headers):
        return lambda client: client.post(path, json={}, headers=headers).status_code

    assert run_together(app, [click(h) for h in heads]) == [200] * 4
    assert sent.call_count == 1
    assert count(Disbursement) == 1
    assert count(Refund, Refund.status == "PROCESSING") == 1
