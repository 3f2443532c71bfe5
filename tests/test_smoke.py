def test_health_reports_database_ok(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json["data"]["status"] == "healthy"
    assert response.json["data"]["database"] == "ok"


def test_auth_headers_fixture_authenticates(client, customer_headers, customer):
    from app.auth.access import login_required
    from app.auth.routes import blp  # noqa: F401

    assert customer.id and customer_headers["Authorization"].startswith("Bearer ")
    assert login_required
