"""The reconciliation report: flagged payments, unknown callbacks, refunds owed or failed."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from app.calendar import today
from app.extensions import db
from app.payments.models import Outcome, PaymentProvider, ProviderEvent
from tests.factories.catalog import ProductFactory
from tests.factories.payments import PaymentFactory


def test_what_providers_and_our_records_disagree_on(shop, client, admin_headers):
    product = ProductFactory(price=Decimal("1500.00"), stock=10)
    short = shop.place([(product, 1)])
    PaymentFactory(
        order=short,
        completed=True,
        amount=Decimal("1750.00"),
        amount_received=Decimal("1700.00"),
        flagged=True,
        flag_reason='=HYPERLINK("x") Provider reported 1700.00 KES, expected 1750.00 KES',
    )
    db.session.add(
        ProviderEvent(
            provider=PaymentProvider.MPESA,
            kind="stk-callback",
            external_id="ws_CO_UNKNOWN",
            payload="{}",
            outcome=Outcome.UNKNOWN_PAYMENT,
            detail="No attempt has this reference",
        )
    )
    paid = shop.place([(product, 2)])
    shop.pay(paid)
    shop.cancel(paid)  # a refund of 3,250.00 is due
    day = str(today())

    response = client.get(
        "/api/admin/reports/reconciliation",
        query_string={"from": day, "to": day},
        headers=admin_headers,
    )
    assert response.status_code == 200
    data = response.json["data"]
    flagged = data["flagged_payments"]
    assert flagged["count"] == 1 and flagged["items"][0]["problem"] == "AMOUNT_MISMATCH"
    assert flagged["items"][0]["amount_received"] == "1700.00"
    assert data["unknown_payments"]["items"][0]["provider_reference"] == "ws_CO_UNKNOWN"
    assert data["refunds"] == {
        "count": 1,
        "amount": "3250.00",
        "items": [data["refunds"]["items"][0]],
    }
    assert data["refunds"]["items"][0]["problem"] == "DUE"

    exported = client.get(
        "/api/admin/reports/reconciliation",
        query_string={"from": day, "to": day, "format": "csv"},
        headers=admin_headers,
    )
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0][0] == "section" and len(rows) == 4
    detail = rows[1][rows[0].index("detail")]
    assert detail.startswith("'=HYPERLINK")  # formula injection made inert


def test_transfers_in_flight_and_cash_not_handed_in(client, admin_headers, auth_headers):
    from app.disbursements.models import DisbursementPurpose, DisbursementStatus
    from app.disbursements.operations import create_disbursement
    from tests.dispatch.helpers import delivered_order
    from tests.factories.payouts import paying_supplier

    supplier = paying_supplier()
    transfer = create_disbursement(
        DisbursementPurpose.PAYOUT,
        supplier.id,
        phone=supplier.mpesa_payout_number,
        amount=Decimal("800"),
        remarks="Payout",
    )
    transfer.status, transfer.unknown = DisbursementStatus.SENT, True  # a queue timeout
    db.session.commit()
    order, agent = delivered_order(client, admin_headers, auth_headers, cash=True)
    collected = client.post(
        f"/api/delivery/orders/{order.id}/collect-cod",
        json={"amount": str(order.total)},
        headers=auth_headers(agent),
    )
    assert collected.status_code == 200
    day = str(today())

    data = client.get(
        "/api/admin/reports/reconciliation",
        query_string={"from": day, "to": day},
        headers=admin_headers,
    ).json["data"]

    in_flight = data["transfers_in_flight"]
    assert (in_flight["count"], in_flight["amount"]) == (1, "800.00")
    assert in_flight["items"][0]["problem"] == "UNKNOWN"
    assert in_flight["items"][0]["reference"] == transfer.originator_conversation_id
    cash = data["cash_not_handed_in"]
    assert (cash["count"], cash["amount"]) == (1, str(order.total))
    assert cash["items"][0]["order_number"] == order.order_number

    verified = client.post(
        f"/api/admin/orders/{order.id}/cod-verify",
        json={"reference": "BANK-DEP-0042"},
        headers=admin_headers,
    )
    assert verified.status_code == 200, verified.json
    data = client.get(
        "/api/admin/reports/reconciliation",
        query_string={"from": day, "to": day},
        headers=admin_headers,
    ).json["data"]
    assert data["cash_not_handed_in"]["count"] == 0
