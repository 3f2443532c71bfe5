"""``GET /api/health`` and the generated OpenAPI document / Swagger UI."""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.extensions import db


def test_health_reports_database_ok(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    body = response.json
    assert body["success"] is True
    assert body["data"]["status"] == "healthy"
    assert body["data"]["database"] == "ok"
    assert body["data"]["environment"] == "testing"


@pytest.fixture
def unreachable_app(monkeypatch):
    # Nothing listens on port 1: connecting fails at once.
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    app = create_app("testing")
    yield app
    with app.app_context():
        db.engine.dispose()


def test_health_is_503_when_the_database_is_unreachable(unreachable_app, caplog):
    response = unreachable_app.test_client().get("/api/health")
    assert response.status_code == 503
    body = response.json
    assert body["success"] is False
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert body["data"]["status"] == "unhealthy"
    assert body["data"]["database"] == "unreachable"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "127.0.0.1" not in response.get_data(as_text=True)  # no connection details
    assert any("database unreachable" in r.getMessage() for r in caplog.records)


def test_openapi_document_lists_health_with_its_envelopes(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Quantum Gear Marketplace API"
    operation = spec["paths"]["/api/health"]["get"]
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    down = operation["responses"]["503"]["content"]["application/json"]["schema"]["$ref"]
    schemas = spec["components"]["schemas"]
    envelope = schemas[ok.rsplit("/", 1)[1]]
    # status and database also sit at the top level, for load balancers (see app/health.py)
    assert set(envelope["properties"]) == {"success", "message", "data", "status", "database"}
    assert {"status", "database"} <= set(envelope["required"])
    health = schemas[envelope["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
    assert {"status", "database"} <= set(health["properties"])
    assert {"success", "message", "error", "request_id", "data"} <= set(
        schemas[down.rsplit("/", 1)[1]]["properties"]
    )


def resolve(spec: dict, node: dict) -> dict:
    """Follow ``$ref``s inside the document."""
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def json_schema(spec: dict, node: dict) -> dict:
    return resolve(spec, resolve(spec, node)["content"]["application/json"]["schema"])


def test_openapi_documents_request_bodies_pagination_and_errors(probe_app):
    spec = probe_app.test_client().get("/api/openapi.json").json
    listing = spec["paths"]["/api/probe/audits"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"page", "per_page"}
    assert {"data", "meta"} <= set(json_schema(spec, listing["responses"]["200"])["properties"])
    write = spec["paths"]["/api/probe/audits"]["post"]
    assert "action" in json_schema(spec, write["requestBody"])["properties"]
    for status in ("400", "default"):
        error = json_schema(spec, write["responses"][status])
        assert {"success", "message", "error", "request_id"} <= set(error["properties"])


def test_swagger_ui_is_served(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "swagger-ui" in response.get_data(as_text=True)
    assert "openapi.json" in response.get_data(as_text=True)


def test_every_api_route_is_documented_with_responses_and_errors(app, client):
    spec = client.get("/api/openapi.json").json
    undocumented = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint.startswith("api-docs."):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = spec["paths"].get(path, {}).get(method.lower())
            if operation is None:
                undocumented.append(f"{method} {rule.rule}")
                continue
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), f"{method} {path}"
            assert "default" in responses, f"{method} {path}: no error response"
    assert undocumented == []


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def test_numeric_bounds_in_the_document_are_numbers(client):
    """Decimal bounds were written as strings ("1.0000"): an invalid OpenAPI document."""
    spec = client.get("/api/openapi.json").json
    for node in _walk(spec):
        for key in ("minimum", "maximum"):
            if key in node:
                assert isinstance(node[key], int | float), node
    category = spec["components"]["schemas"]["Category"]["properties"]["commission_rate"]
    assert category["type"] == "string"  # dumped as "0.1000"


def test_path_ids_are_documented_with_their_bound(client):
    spec = client.get("/api/openapi.json").json
    (param,) = spec["paths"]["/api/products/{product_id}"]["parameters"]
    assert param["schema"]["maximum"] == 2**31 - 1


def test_responses_that_are_not_json_or_not_201_are_documented(client):
    spec = client.get("/api/openapi.json").json
    template = spec["paths"]["/api/products/import/template"]["get"]["responses"]["200"]
    assert set(template["content"]) == {
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    add_item = spec["paths"]["/api/cart/items"]["post"]["responses"]
    assert {"200", "201"} <= set(add_item)
