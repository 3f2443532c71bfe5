"""The role table walked whole: every admin endpoint (found in ``app.url_map``) with every
role is allowed, or 403 ``FORBIDDEN``, exactly as ``PERMISSIONS`` says.

An endpoint is an admin endpoint when its path is under ``/api/admin`` or its guard lets
in admin roles only. Each must name its row of the table (``@requires(...)``); an
endpoint added without one fails ``test_every_admin_endpoint_has_a_row_in_the_role_table``
with the list of those to fix.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask

from app import create_app
from app.auth.access import admin_required, requires
from app.auth.models import ADMIN_ROLES, UserRole
from app.auth.permissions import PERMISSIONS
from app.orders.models import OrderStatus
from app.orders.state import roles_moving_to

PATH_ARGUMENT = re.compile(r"<(?:(\w+):)?\w+>")


def admin_endpoints(app: Flask) -> list[tuple[str, str, str, object]]:
    """(method, path, endpoint, view) of every admin endpoint."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "_roles", None)
        admin_only = bool(roles) and roles <= ADMIN_ROLES
        if not (rule.rule.startswith("/api/admin") or admin_only):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, rule.rule, rule.endpoint, view))
    return found


def undeclared(app: Flask) -> list[str]:
    return [
        f"{method} {path} ({endpoint})"
        for method, path, endpoint, view in admin_endpoints(app)
        if getattr(view, "_capability", None) not in PERMISSIONS
    ]


def concrete(path: str) -> str:
    """A callable path: ids that name nothing, text that matches nothing."""
    return PATH_ARGUMENT.sub(lambda m: "999999" if m.group(1) == "int" else "no-such-thing", path)


def test_every_admin_endpoint_has_a_row_in_the_role_table(app):
    missing = undeclared(app)
    assert not missing, (
        "These admin endpoints name no row of the role table. Guard each with "
        "@requires('<capability>') (app/auth/access.py), naming a row of PERMISSIONS in "
        "app/auth/permissions.py (add the row, and to the README's role table, if none "
        "fits):\n  " + "\n  ".join(missing)
    )


def test_an_endpoint_without_a_row_is_reported():
    probe = create_app("testing")
    probe.add_url_rule("/api/admin/probe", "probe", admin_required(lambda: "ok"))
    probe.add_url_rule("/api/admin/guarded", "guarded", requires("audit.read")(lambda: "ok"))
    probe.add_url_rule("/api/finance/probe", "finance", requires("finance.reports")(lambda: "ok"))
    assert undeclared(probe) == ["GET /api/admin/probe (probe)"]
    with probe.app_context():
        from app.extensions import db

        db.engine.dispose()


def test_the_matrix_covers_the_back_office(app):
    paths = {path for _, path, _, _ in admin_endpoints(app)}
    assert {
        "/api/admin/users",
        "/api/admin/users/<int:user_id>/role",
        "/api/admin/suppliers/<int:supplier_id>/approve",
        "/api/admin/settings",
        "/api/admin/audit-logs",
        "/api/admin/orders/bulk-update",
        "/api/admin/products/export-csv",
        "/api/admin/activity-timeline",
        "/api/products/categories",  # guarded for product managers only
        "/api/orders/<int:order_id>/payment",
        "/api/payments/cash/confirm",
        "/api/admin/contact-messages",
    } <= paths


def test_recording_a_payment_is_for_those_who_may_make_an_order_paid():
    assert PERMISSIONS["orders.payment"] == roles_moving_to(OrderStatus.PAID)


def test_admin_holds_every_capability():
    assert all(UserRole.ADMIN in roles for roles in PERMISSIONS.values())
    assert all(roles <= ADMIN_ROLES for roles in PERMISSIONS.values())


@pytest.mark.parametrize("role", list(UserRole))
def test_each_role_is_allowed_exactly_what_the_table_says(
    app, client, role_user, auth_headers, role
):
    headers = auth_headers(role_user(role))
    wrong = []
    for method, path, _, view in admin_endpoints(app):
        allowed = role in PERMISSIONS[view._capability]
        body = None if method == "GET" else {}
        response = client.open(concrete(path), method=method, json=body, headers=headers)
        forbidden = response.status_code == 403 and response.json["error"]["code"] == "FORBIDDEN"
        if allowed == forbidden or response.status_code >= 500:
            wrong.append(
                f"{method} {path}: {response.status_code} "
                f"({'should be allowed' if allowed else 'should be 403 FORBIDDEN'})"
            )
    assert not wrong, f"{role}:\n  " + "\n  ".join(wrong)


def test_every_admin_endpoint_needs_a_token(app, client):
    for method, path, _, _ in admin_endpoints(app):
        body = None if method == "GET" else {}
        response = client.open(concrete(path), method=method, json=body)
        assert response.status_code == 401, f"{method} {path}: {response.status_code}"


def test_the_readme_shows_the_role_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    order = [
        UserRole.ADMIN,
        UserRole.FINANCE_ADMIN,
        UserRole.SUPPORT_ADMIN,
        UserRole.PRODUCT_MANAGER,
    ]
    rows = {}
    for line in readme.splitlines():
        match = re.match(r"^\| `([a-z_.]+)` \|(.*)\|$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")][:4]
            rows[match.group(1)] = {role for role, cell in zip(order, cells, strict=True) if cell}
    assert rows == {name: set(roles) for name, roles in PERMISSIONS.items()}
