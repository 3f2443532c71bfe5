"""``GET /api/health`` and the generated OpenAPI document / Swagger UI."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading

import pytest
from werkzeug.serving import make_server

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


def test_swagger_ui_loads_only_local_files_under_a_strict_csp(client):
    """Swagger UI comes from the pinned swagger-ui-bundle package, not a CDN, and the page
    has no inline script: its Content-Security-Policy runs scripts from 'self' only."""
    response = client.get("/api/docs")
    page = response.get_data(as_text=True)
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts and all(re.fullmatch(r' src="/[^/][^"]*"', attrs) for attrs in scripts)
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert asset.mimetype in {"text/javascript", "text/css"}, url


def test_swagger_ui_files_outside_the_bundle_are_404(client):
    assert client.get("/api/docs/../../app/config.py").status_code == 404
    assert client.get("/api/docs/missing.js").json["error"]["code"] == "NOT_FOUND"


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium is not installed")
def test_swagger_ui_renders_the_operations_offline_in_a_browser(app):
    """Headless Chromium, resolving no host but 127.0.0.1, renders /api/docs from a local
    server: every file the page needs is served by the app."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with tempfile.TemporaryDirectory(prefix="qg-chromium-") as profile:
            dom = subprocess.run(
                [
                    "chromium",
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    f"--user-data-dir={profile}",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    "--virtual-time-budget=15000",
                    "--dump-dom",
                    f"http://127.0.0.1:{server.server_port}/api/docs",
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            ).stdout
    finally:
        server.shutdown()
        thread.join()
    assert "Quantum Gear Marketplace API" in dom
    assert 'class="opblock' in dom
    assert "/api/products" in dom and "/api/auth/login" in dom


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


def _walk(node, names=False):
    """Every schema object (a ``properties`` map's keys are names, e.g. "minimum")."""
    if isinstance(node, dict):
        if not names:
            yield node
        for key, value in node.items():
            yield from _walk(value, names=key == "properties" and not names)
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
