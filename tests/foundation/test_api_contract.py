"""The cross-cutting parts of API.md: envelopes, errors, request ids, headers, CORS."""

from __future__ import annotations

import json
import logging
import re

import pytest
from sqlalchemy import select

from app import create_app
from app.api import unstorable
from app.common.models import JobRun
from app.extensions import db
from tests.foundation.probe import make_probe_app

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.json
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["error"]["details"], dict)
    assert body["request_id"] == response.headers["X-Request-ID"]
    return body


# --- envelopes ------------------------------------------------------------------------


def test_success_envelope_wraps_the_serialised_object(probe_client, customer, auth_headers):
    response = probe_client.post(
        "/api/probe/audits",
        json={"action": "probe.write", "amount": "1499.5", "phone": "0712 345 678"},
        headers=auth_headers(customer),
    )
    assert response.status_code == 201
    body = response.json
    assert set(body) == {"success", "message", "data"}
    assert body["success"] is True and body["message"] == "Recorded"
    assert body["data"]["action"] == "probe.write"
    assert body["data"]["actor_id"] == customer.id
    assert body["data"]["details"] == {"amount": "1499.50", "phone": "254712345678"}
    assert body["data"]["created_at"].endswith("Z")


def test_paginated_envelope_has_data_and_meta(probe_client, customer, auth_headers):
    headers = auth_headers(customer)
    for n in range(5):
        probe_client.post("/api/probe/audits", json={"action": f"a{n}"}, headers=headers)
    response = probe_client.get("/api/probe/audits?page=2&per_page=2")
    assert response.status_code == 200
    body = response.json
    assert set(body) == {"success", "message", "data", "meta"}
    assert [item["action"] for item in body["data"]] == ["a2", "a3"]
    assert body["meta"] == {"page": 2, "per_page": 2, "total": 5, "pages": 3}


def test_empty_list_has_zero_pages(probe_client):
    body = probe_client.get("/api/probe/audits").json
    assert body["data"] == []
    assert body["meta"] == {"page": 1, "per_page": 20, "total": 0, "pages": 0}


@pytest.mark.parametrize(
    ("query", "page", "per_page"),
    [
        ("page=0", 1, 20),
        ("page=-5&per_page=0", 1, 1),
        ("per_page=1000", 1, 100),
        ("page=3&per_page=100", 3, 100),
        (f"page={10**30}", 1_000_000, 20),
    ],
)
def test_pagination_clamps_out_of_range_values(probe_client, query, page, per_page):
    response = probe_client.get(f"/api/probe/audits?{query}")
    assert response.status_code == 200
    assert (response.json["meta"]["page"], response.json["meta"]["per_page"]) == (page, per_page)


@pytest.mark.parametrize("query", ["per_page=abc", "page=1.5", "per_page="])
def test_non_numeric_pagination_is_a_validation_error_naming_the_field(probe_client, query):
    body = assert_error(probe_client.get(f"/api/probe/audits?{query}"), 400, "VALIDATION_ERROR")
    field = query.split("=")[0]
    assert list(body["error"]["details"]) == [field]
    assert body["error"]["details"][field] == ["Not a valid integer."]


# --- bad input --------------------------------------------------------------------------


def test_validation_error_maps_each_field_to_messages(probe_client, customer, auth_headers):
    response = probe_client.post(
        "/api/probe/audits",
        json={"amount": "10.005", "phone": "12345", "surprise": 1},
        headers=auth_headers(customer),
    )
    details = assert_error(response, 400, "VALIDATION_ERROR")["error"]["details"]
    assert details["action"] == ["Missing data for required field."]
    assert details["amount"] == ["Amount cannot have more than two decimal places."]
    assert details["phone"][0].startswith("Not a valid Kenyan mobile number")
    assert details["surprise"] == ["Unknown field."]


def test_malformed_json_is_400(probe_client, customer, auth_headers):
    response = probe_client.post(
        "/api/probe/audits",
        data='{"action": "x",',
        content_type="application/json",
        headers=auth_headers(customer),
    )
    assert_error(response, 400, "MALFORMED_JSON")


def test_body_that_is_not_utf8_is_malformed_json(probe_client, customer, auth_headers):
    response = probe_client.post(
        "/api/probe/audits",
        data=b'{"action": "\xff\xfe"}',
        content_type="application/json",
        headers=auth_headers(customer),
    )
    assert_error(response, 400, "MALFORMED_JSON")


def nested(depth: int, kind: str) -> str:
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("kind", ["array", "object"])
@pytest.mark.parametrize("path", ["/api/probe/echo", "/api/auth/login", "/api/auth/register"])
def test_json_nested_600_deep_is_a_400_without_a_traceback(probe_client, caplog, kind, path):
    """It was a RecursionError: a 500 and a 2,000-line traceback in the log."""
    body = '{"data": ' + nested(600, kind) + "}"
    with caplog.at_level(logging.DEBUG):
        response = probe_client.post(path, data=body, content_type="application/json")
    details = assert_error(response, 400, "MALFORMED_JSON")["error"]["details"]
    assert details == {"max_depth": 32}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("kind", ["array", "object"])
def test_json_31_deep_is_accepted_and_33_refused(probe_client, kind):
    accepted = probe_client.post(
        "/api/probe/echo",
        data='{"data": ' + nested(31, kind) + "}",
        content_type="application/json",
    )
    assert accepted.status_code == 200
    assert json.dumps(accepted.json["data"], separators=(",", ":")) == nested(31, kind).replace(
        '": ', '":'
    )
    refused = probe_client.post(
        "/api/probe/echo",
        data='{"data": ' + nested(32, kind) + "}",
        content_type="application/json",
    )
    assert_error(refused, 400, "MALFORMED_JSON")


def test_brackets_inside_strings_do_not_count(probe_client):
    text = "[{" * 100
    response = probe_client.post("/api/probe/echo", json={"data": [text, {"k": text}]})
    assert response.status_code == 200 and response.json["data"] == [text, {"k": text}]


def test_flask_get_json_refuses_deep_json_too(app):
    """``request.get_json`` (used outside webargs, e.g. the rate limiter's key) decodes
    with the app's JSON provider: too deep is invalid JSON (None when silent, else 400)."""
    with app.test_request_context(json=None, data="[" * 600, content_type="application/json"):
        from flask import request

        assert request.get_json(silent=True) is None
    with pytest.raises(ValueError, match="32 levels"):
        app.json.loads(b"[" * 40 + b"]" * 40)
    assert app.json.loads(b"[" * 32 + b"]" * 32) == json.loads("[" * 32 + "]" * 32)


def test_unstorable_text_is_found_at_any_depth_without_recursion():
    value: object = "nul\x00"
    for _ in range(100_000):
        value = [value]
    assert unstorable(value) and not unstorable([[{"k": ["fine"]}]] * 3)


@pytest.mark.parametrize("payload", ["[1, 2]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_a_validation_error(
    probe_client, customer, auth_headers, payload
):
    response = probe_client.post(
        "/api/probe/audits",
        data=payload,
        content_type="application/json",
        headers=auth_headers(customer),
    )
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_wrong_content_type_is_415(probe_client, customer, auth_headers, content_type):
    response = probe_client.post(
        "/api/probe/audits",
        data='{"action": "x"}',
        content_type=content_type,
        headers=auth_headers(customer),
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_oversized_body_is_413(probe_app, customer, auth_headers):
    probe_app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = probe_app.test_client().post(
            "/api/probe/audits",
            data='{"action": "' + "x" * 2048 + '"}',
            content_type="application/json",
            headers=auth_headers(customer),
        )
    finally:
        probe_app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_default_max_content_length_is_10_mib(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024


def test_unknown_path_is_a_json_404(client):
    assert_error(client.get("/api/no-such-thing"), 404, "NOT_FOUND")
    assert_error(client.get("/not-even-api"), 404, "NOT_FOUND")


@pytest.mark.parametrize("product_id", [2**31, 54043230044641730560])
def test_path_id_beyond_the_integer_range_is_a_json_404(client, product_id):
    """It used to reach the database: OverflowError (SQLite) / DataError (PostgreSQL), 500."""
    assert_error(client.get(f"/api/products/{product_id}"), 404, "NOT_FOUND")


def test_path_text_with_a_nul_character_is_a_json_404(client):
    assert_error(client.get("/api/products/slug/a%00b"), 404, "NOT_FOUND")


@pytest.mark.parametrize("text", ["nul\x00inside", "lone \ud800 surrogate"])
def test_body_text_no_database_can_store_is_a_validation_error(client, admin_headers, text):
    """PostgreSQL refuses NUL and neither driver encodes a lone surrogate: it was a 500."""
    response = client.post("/api/products/brands", json={"name": text}, headers=admin_headers)
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert list(body["error"]["details"]) == ["name"]
    assert client.get("/api/products/brands").json["data"] == []


def test_nested_body_text_is_checked_too(client, admin_headers):
    response = client.post(
        "/api/products/categories",
        json={"name": "Drones", "suggested_specs": {"range\x00": "string"}},
        headers=admin_headers,
    )
    assert list(assert_error(response, 400, "VALIDATION_ERROR")["error"]["details"]) == [
        "suggested_specs"
    ]


@pytest.mark.parametrize("path", ["/api/products?brand=a%00b", "/api/orders?q=a%00"])
def test_query_text_with_a_nul_character_is_a_validation_error(client, admin_headers, path):
    response = client.get(path, headers=admin_headers)
    assert_error(response, 400, "VALIDATION_ERROR")


def test_wrong_method_is_a_json_405_with_allow(client):
    response = client.delete("/api/health")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["Allow"]


def test_missing_token_is_a_json_401(probe_client):
    assert_error(probe_client.post("/api/probe/audits", json={"action": "x"}), 401, "UNAUTHORIZED")


def test_unexpected_exception_is_a_500_without_internals_and_is_logged(probe_client, caplog):
    with caplog.at_level(logging.ERROR):
        response = probe_client.get("/api/probe/crash", headers={"X-Request-ID": "crash-123"})
    body = assert_error(response, 500, "INTERNAL_ERROR")
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "Traceback" not in text and "RuntimeError" not in text
    assert body["message"] == "Something went wrong on our side"
    assert body["request_id"] == "crash-123"
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and "crash-123" in r.message]
    assert logged and logged[0].exc_info and "hunter2" in str(logged[0].exc_info[1])


def test_integrity_error_is_a_409_that_writes_nothing(probe_client, caplog):
    response = probe_client.post("/api/probe/duplicate")
    body = assert_error(response, 409, "CONFLICT")
    assert "uq_job_runs" not in body["message"] and "UNIQUE" not in body["message"].upper()
    assert db.session.scalars(select(JobRun)).all() == []


def test_rate_limited_is_a_json_429_with_retry_after(rate_limits):
    client = rate_limits(make_probe_app()).test_client()
    assert client.get("/api/probe/limited").status_code == 200
    assert client.get("/api/probe/limited").status_code == 200
    response = client.get("/api/probe/limited", headers={"X-Request-ID": "limited-1"})
    body = assert_error(response, 429, "RATE_LIMITED")
    assert body["request_id"] == "limited-1"
    assert 0 < int(response.headers["Retry-After"]) <= 60


# --- request id, access log, headers -----------------------------------------------------


def test_request_id_is_echoed(client):
    response = client.get("/api/health", headers={"X-Request-ID": "abc-123.XYZ_9"})
    assert response.headers["X-Request-ID"] == "abc-123.XYZ_9"


@pytest.mark.parametrize("sent", [None, "", "has spaces", "x" * 200, "<script>"])
def test_request_id_is_generated_when_absent_or_unsafe(client, sent):
    headers = {} if sent is None else {"X-Request-ID": sent}
    response = client.get("/api/health", headers=headers)
    assert UUID.match(response.headers["X-Request-ID"])


def test_error_bodies_carry_the_request_id(client):
    response = client.get("/api/nope", headers={"X-Request-ID": "req-42"})
    assert response.json["request_id"] == "req-42"
    assert response.headers["X-Request-ID"] == "req-42"


def test_access_log_has_one_line_per_request(probe_client, customer, auth_headers, caplog):
    headers = auth_headers(customer, **{"X-Request-ID": "log-1"})
    with caplog.at_level(logging.INFO, logger="app.access"):
        probe_client.post("/api/probe/audits", json={"action": "x"}, headers=headers)
        probe_client.get("/api/missing", headers={"X-Request-ID": "log-2"})
    lines = [r.getMessage() for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 2
    assert re.fullmatch(
        rf"POST /api/probe/audits 201 \d+\.\dms request_id=log-1 user_id={customer.id}", lines[0]
    )
    assert re.fullmatch(r"GET /api/missing 404 \d+\.\dms request_id=log-2 user_id=-", lines[1])


def test_security_headers_on_success_and_error(client):
    for response in (client.get("/api/health"), client.get("/api/missing")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("JWT_SECRET_KEY", "j" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prod.db")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:1/0")  # never reached
    production = create_app("production")
    response = production.test_client().get("/api/missing")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    with production.app_context():
        from app.extensions import db

        db.engine.dispose()


# --- CORS -------------------------------------------------------------------------------

ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"]


def test_cors_preflight_from_the_frontend_allows_the_api_headers(client, app):
    origin = app.config["FRONTEND_URL"]
    response = client.options(
        "/api/health",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": ", ".join([*ALLOWED_HEADERS, "X-Evil"]),
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert allowed == {h.lower() for h in ALLOWED_HEADERS}
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_cors_simple_request_exposes_request_id(client, app):
    response = client.get("/api/health", headers={"Origin": app.config["FRONTEND_URL"]})
    assert response.headers["Access-Control-Allow-Origin"] == app.config["FRONTEND_URL"]
    assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]


def test_cors_refuses_other_origins(client):
    response = client.options(
        "/api/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    get = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in get.headers


def test_cors_origins_setting_lists_several_origins(monkeypatch, tmp_path):
    monkeypatch.setenv("FRONTEND_URL", "https://shop.example")
    monkeypatch.setenv("CORS_ORIGINS", "https://shop.example, https://admin.example")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/dev.db")
    dev = create_app("development").test_client()
    for origin, allowed in [
        ("https://admin.example", True),
        ("https://shop.example", True),
        ("http://localhost:5173", False),
    ]:
        response = dev.get("/api/health", headers={"Origin": origin})
        assert (response.headers.get("Access-Control-Allow-Origin") == origin) is allowed


def test_request_id_is_assigned_before_the_rate_limiter_runs(rate_limits, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/dev.db")
    dev = rate_limits(create_app("development"))  # limits on from the start, as in production
    hooks = dev.before_request_funcs[None]
    assert len(hooks) >= 2
    assert hooks[0].__name__ == "_start_request"
