"""Runtime settings: validated per key, partial, audited; every app instance (worker)
reads a change within ``SETTINGS_CACHE_SECONDS``."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app import create_app
from app import settings as settings_module
from app.common.models import AuditLog
from app.extensions import db as _db
from app.settings import SETTINGS, operations, setting
from tests.admin.statements import count_statements


def values(client, headers) -> dict:
    response = client.get("/api/admin/settings", headers=headers)
    assert response.status_code == 200
    return {entry["key"]: entry for entry in response.json["data"]}


def test_every_setting_is_listed_with_its_default(client, app, admin_headers):
    listed = values(client, admin_headers)
    assert set(listed) == set(SETTINGS)
    assert listed["low_stock_threshold"]["value"] == app.config["LOW_STOCK_THRESHOLD"]
    assert listed["default_commission_rate"]["value"] == "0.1000"
    assert listed["payout_min_amount"]["value"] == "100.00"
    assert listed["store_name"]["overridden"] is False


def test_a_partial_update_changes_only_the_keys_sent_and_is_audited(
    client, db, admin, admin_headers
):
    response = client.put(
        "/api/admin/settings",
        json={"low_stock_threshold": 3, "restocking_fee_rate": "0.15", "store_name": "QG"},
        headers=admin_headers,
    )
    assert response.status_code == 200, response.json
    listed = {entry["key"]: entry for entry in response.json["data"]}
    assert listed["low_stock_threshold"]["value"] == 3
    assert listed["low_stock_threshold"]["overridden"] is True
    assert listed["low_stock_threshold"]["updated_by_id"] == admin.id
    assert listed["restocking_fee_rate"]["value"] == "0.1500"
    assert listed["cod_max_total"]["overridden"] is False
    assert setting("low_stock_threshold") == 3 and str(setting("restocking_fee_rate")) == "0.1500"
    entries = {
        entry.target_id: entry
        for entry in db.session.scalars(
            select(AuditLog).where(AuditLog.action == "settings.updated")
        )
    }
    assert set(entries) == {"low_stock_threshold", "restocking_fee_rate", "store_name"}
    assert entries["low_stock_threshold"].details == {"before": 5, "after": 3}
    assert entries["store_name"].target_type == "Setting"
    assert entries["store_name"].actor_id == admin.id and entries["store_name"].request_id

    # the same value again changes (and audits) nothing
    client.put("/api/admin/settings", json={"low_stock_threshold": 3}, headers=admin_headers)
    assert db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc())) == max(
        entry.id for entry in entries.values()
    )


@pytest.mark.parametrize(
    ("body", "bad"),
    [
        ({"default_commission_rate": "0.6"}, "default_commission_rate"),
        ({"agent_fee_rate": "1.5"}, "agent_fee_rate"),
        ({"return_window_days": -1}, "return_window_days"),
        ({"cod_max_total": "lots"}, "cod_max_total"),
        ({"payout_schedule": "every monday"}, "payout_schedule"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"contact_whatsapp": "12345"}, "contact_whatsapp"),
        ({"social_links": {"myspace": "https://myspace.com/qg"}}, "social_links"),
        ({"social_links": {"x": "javascript:alert(1)"}}, "social_links"),
        ({"store_name": ""}, "store_name"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"payout_min_amount": "-5"}, "payout_min_amount"),
    ],
)
def test_each_key_is_validated_and_a_bad_one_changes_nothing(client, admin_headers, body, bad):
    response = client.put(
        "/api/admin/settings", json={"store_name": "Changed", **body}, headers=admin_headers
    )
    assert response.status_code == 400
    assert bad in response.json["error"]["details"]
    assert values(client, admin_headers)["store_name"]["overridden"] is False


def test_social_links_merge_and_the_public_part_shows_the_change(client, admin_headers):
    client.put(
        "/api/admin/settings",
        json={
            "social_links": {"x": ""},
            "contact_phone": "+254 711 000 000",
            "maintenance_banner": "Down for upgrades at 22:00",
            "contact_whatsapp": "0711000000",
        },
        headers=admin_headers,
    )
    public = client.get("/api/settings/public").json["data"]
    assert public["maintenance_banner"] == "Down for upgrades at 22:00"
    assert public["social_links"]["x"] == "" and public["social_links"]["facebook"]
    assert public["contact_whatsapp"] == "254711000000"
    assert "cod_max_total" not in public
    info = client.get("/api/contact/info").json["data"]
    assert info["phone"] == "+254 711 000 000"


def test_a_change_reaches_a_second_app_instance_within_the_cache_time(
    app, client, admin_headers, monkeypatch
):
    """Two app instances are two workers: each keeps its own cache."""
    clock = [1000.0]
    monkeypatch.setattr(settings_module.time, "monotonic", lambda: clock[0])
    other = create_app("testing")
    other.config["SETTINGS_CACHE_SECONDS"] = 5
    try:
        with other.app_context():
            assert setting("cod_max_total") == 50000  # read and cached by the other worker
            _db.session.remove()
        response = client.put(
            "/api/admin/settings", json={"cod_max_total": 20000}, headers=admin_headers
        )
        assert response.status_code == 200
        assert setting("cod_max_total") == 20000  # this worker: at once
        with other.app_context():
            assert setting("cod_max_total") == 50000  # still within its cache time
            _db.session.remove()
        clock[0] += 5
        with other.app_context():
            assert setting("cod_max_total") == 20000
            _db.session.remove()
    finally:
        with other.app_context():
            _db.engine.dispose()


def test_the_admin_list_reads_the_overrides_in_one_query(app, client, admin_headers, monkeypatch):
    client.put(
        "/api/admin/settings",
        json={"store_name": "QG", "cod_max_total": 100},
        headers=admin_headers,
    )
    monkeypatch.setitem(app.config, "SETTINGS_CACHE_SECONDS", 60)
    setting("store_name")  # the worker's cache is warm: only the overrides are read
    assert count_statements(operations.all_settings) == 1
