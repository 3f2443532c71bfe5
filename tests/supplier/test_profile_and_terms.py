"""The supplier's profile and the terms: read, accept (version, time, IP), refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from app.common.models import AuditLog
from app.extensions import db
from app.supplier.terms import accepted_current_terms
from tests.factories.auth import SupplierProfileFactory


def test_the_profile_shows_business_payout_terms_and_commission(client, supplier, supplier_headers):
    profile = supplier.supplier_profile
    profile.kra_pin, profile.commission_rate = "A123456789B", Decimal("0.0750")
    db.session.commit()

    response = client.get("/api/supplier/profile", headers=supplier_headers)

    assert response.status_code == 200, response.json
    data = response.json["data"]
    assert data["id"] == profile.id and data["business_name"] == profile.business_name
    assert (data["kra_pin"], data["email"]) == ("A123456789B", supplier.email)
    assert data["mpesa_payout_number"] == profile.mpesa_payout_number
    assert data["pending_payout_number_change"] is None
    assert data["commission_rate"] == "0.0750"
    assert data["terms"] == {
        "current_version": "2026-11",
        "accepted_version": None,
        "accepted_at": None,
        "accepted_ip": None,
        "accepted_current": False,
    }


def test_the_profile_shows_the_pending_payout_number_change(client, supplier, supplier_headers):
    old = supplier.supplier_profile.mpesa_payout_number
    client.put(
        "/api/supplier/profile/payment-phone",
        json={"mpesa_number": "0799111222"},
        headers=supplier_headers,
    )

    data = client.get("/api/supplier/profile", headers=supplier_headers).json["data"]

    assert data["mpesa_payout_number"] == old
    change = data["pending_payout_number_change"]
    assert (change["old_number"], change["new_number"], change["status"]) == (
        old,
        "254799111222",
        "PENDING",
    )
    assert data["commission_rate"] == "0.1000"  # no own rate: the default


def test_the_terms_in_force_with_their_rules(client, supplier_headers):
    response = client.get("/api/supplier/terms", headers=supplier_headers)

    assert response.status_code == 200
    terms = response.json["data"]
    assert (terms["version"], terms["effective_date"]) == ("2026-11", "2026-11-01")
    assert terms["commission_rate"] == "0.1000"
    assert "10%" in terms["commission_rule"]
    assert any("7 days" in rule for rule in terms["payout_rules"])
    assert any("KES 100.00" in rule for rule in terms["payout_rules"])
    assert terms["text"].startswith("Quantum Gear supplier terms, version 2026-11")
    assert terms["commission_rule"] in terms["text"]


def test_accepting_records_version_time_and_ip_once(client, supplier, supplier_headers):
    before = datetime.now(UTC).replace(microsecond=0)
    response = client.post(
        "/api/supplier/terms/accept",
        json={"version": "2026-11"},
        headers=supplier_headers,
        environ_base={"REMOTE_ADDR": "197.248.10.20"},
    )

    assert response.status_code == 200, response.json
    status = response.json["data"]
    assert (status["accepted_version"], status["accepted_ip"]) == ("2026-11", "197.248.10.20")
    assert status["accepted_current"] is True
    accepted_at = datetime.fromisoformat(status["accepted_at"].replace("Z", "+00:00"))
    assert accepted_at >= before
    db.session.expire_all()
    assert accepted_current_terms(supplier.supplier_profile)
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "supplier.terms_accepted"))
    assert audit.details == {"version": "2026-11"} and audit.ip_address == "197.248.10.20"

    again = client.post(
        "/api/supplier/terms/accept",
        json={"version": "2026-11"},
        headers=supplier_headers,
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert again.json["data"] == status  # the first acceptance stands
    assert client.get("/api/supplier/terms/status", headers=supplier_headers).json["data"] == status


def test_an_old_or_unknown_version_is_refused(client, app, supplier, supplier_headers):
    for version in ("2025-01", "2099-01"):
        response = client.post(
            "/api/supplier/terms/accept", json={"version": version}, headers=supplier_headers
        )
        assert response.status_code == 409
        assert response.json["error"]["code"] == "TERMS_VERSION_OUTDATED"
        assert response.json["error"]["details"] == {"current_version": "2026-11"}
    assert (
        client.post("/api/supplier/terms/accept", json={}, headers=supplier_headers).status_code
        == 400
    )
    db.session.expire_all()
    assert supplier.supplier_profile.terms_version is None


def test_a_new_version_in_force_needs_a_new_acceptance(client, app, supplier, supplier_headers):
    client.post("/api/supplier/terms/accept", json={"version": "2026-11"}, headers=supplier_headers)
    app.config["SUPPLIER_TERMS_VERSION"] = "2027-01"
    try:
        status = client.get("/api/supplier/terms/status", headers=supplier_headers).json["data"]
        assert (status["accepted_version"], status["accepted_current"]) == ("2026-11", False)
        terms = client.get("/api/supplier/terms", headers=supplier_headers).json["data"]
        assert (terms["version"], terms["effective_date"]) == ("2027-01", None)
        old = client.post(
            "/api/supplier/terms/accept", json={"version": "2026-11"}, headers=supplier_headers
        )
        assert old.status_code == 409
        new = client.post(
            "/api/supplier/terms/accept", json={"version": "2027-01"}, headers=supplier_headers
        )
        assert new.json["data"]["accepted_current"] is True
    finally:
        app.config["SUPPLIER_TERMS_VERSION"] = "2026-11"


def test_profile_and_terms_are_for_approved_suppliers(client, auth_headers, customer_headers):
    pending = auth_headers(SupplierProfileFactory(pending=True).user)
    for path in ("/api/supplier/profile", "/api/supplier/terms", "/api/supplier/terms/status"):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=customer_headers).status_code == 403
        assert client.get(path, headers=pending).status_code == 403
    accept = client.post("/api/supplier/terms/accept", json={"version": "2026-11"}, headers=pending)
    assert accept.status_code == 403
