"""The access decorators, on throw-away views of a fresh app."""

import pytest

from app import create_app
from app.auth import access
from app.auth.models import UserRole
from tests.factories.auth import (
    AdminProfileFactory,
    DeliveryAgentProfileFactory,
    SupplierProfileFactory,
    UserFactory,
)

GUARDS = {
    "login": access.login_required,
    "customer": access.customer_required,
    "supplier": access.supplier_required,
    "supplier_or_admin": access.supplier_or_admin_required,
    "admin": access.admin_required,
    "admin_or_manager": access.admin_or_manager_required,
    "finance": access.finance_admin_required,
    "support": access.support_admin_required,
    "product_manager": access.product_manager_required,
    "delivery": access.delivery_agent_required,
    "verified": access.verified_required,
    "verified_supplier": access.verified_supplier_required,
    "role_finance_or_support": access.role_required(UserRole.FINANCE_ADMIN, UserRole.SUPPORT_ADMIN),
}


@pytest.fixture(scope="module")
def guarded_app():
    app = create_app("testing")
    for name, guard in GUARDS.items():

        def view(name=name):
            return {"guard": name, "user": access.current_user().id}

        app.add_url_rule(f"/test/{name}", f"test_{name}", guard(view))
    return app


def make(role, **kwargs):
    if role == UserRole.SUPPLIER:
        return SupplierProfileFactory(**kwargs).user
    if role == UserRole.DELIVERY_AGENT:
        return DeliveryAgentProfileFactory(**kwargs).user
    if role in (UserRole.CUSTOMER,):
        return UserFactory(**kwargs)
    return AdminProfileFactory(user__role=role, **kwargs).user


ALLOWED = {
    "login": set(UserRole),
    "customer": {UserRole.CUSTOMER},
    "supplier": {UserRole.SUPPLIER},
    "supplier_or_admin": {
        UserRole.SUPPLIER,
        UserRole.ADMIN,
        UserRole.PRODUCT_MANAGER,
        UserRole.FINANCE_ADMIN,
        UserRole.SUPPORT_ADMIN,
    },
    "admin": {UserRole.ADMIN},
    "admin_or_manager": {
        UserRole.ADMIN,
        UserRole.PRODUCT_MANAGER,
        UserRole.FINANCE_ADMIN,
        UserRole.SUPPORT_ADMIN,
    },
    "finance": {UserRole.FINANCE_ADMIN, UserRole.ADMIN},
    "support": {UserRole.SUPPORT_ADMIN, UserRole.ADMIN},
    "product_manager": {UserRole.PRODUCT_MANAGER, UserRole.ADMIN},
    "delivery": {UserRole.DELIVERY_AGENT},
    "verified": set(UserRole),
    "verified_supplier": {UserRole.SUPPLIER},
    "role_finance_or_support": {UserRole.FINANCE_ADMIN, UserRole.SUPPORT_ADMIN, UserRole.ADMIN},
}


@pytest.mark.parametrize("role", list(UserRole))
def test_every_guard_for_every_role(guarded_app, auth_headers, role):
    user = make(role)
    client = guarded_app.test_client()
    headers = auth_headers(user)

    for name in GUARDS:
        response = client.get(f"/test/{name}", headers=headers)
        expected = 200 if role in ALLOWED[name] else 403
        assert response.status_code == expected, (name, role, response.json)
        if expected == 403:
            assert response.json["error"]["code"] == "FORBIDDEN"


def test_guards_need_a_token(guarded_app):
    client = guarded_app.test_client()

    for name in GUARDS:
        response = client.get(f"/test/{name}")
        assert response.status_code == 401
        assert response.json["error"]["code"] == "UNAUTHORIZED"


def test_unapproved_supplier(guarded_app, auth_headers):
    headers = auth_headers(SupplierProfileFactory(pending=True).user)
    client = guarded_app.test_client()

    for name in ("supplier", "supplier_or_admin", "verified_supplier"):
        response = client.get(f"/test/{name}", headers=headers)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "SUPPLIER_NOT_APPROVED"
    assert client.get("/test/login", headers=headers).status_code == 200


def test_unverified_email(guarded_app, auth_headers):
    client = guarded_app.test_client()
    customer = auth_headers(UserFactory(unverified=True))
    supplier = auth_headers(SupplierProfileFactory(user__unverified=True).user)

    for headers, name in ((customer, "verified"), (supplier, "verified_supplier")):
        response = client.get(f"/test/{name}", headers=headers)
        assert response.status_code == 403
        assert response.json["error"]["code"] == "EMAIL_NOT_VERIFIED"
    assert client.get("/test/customer", headers=customer).status_code == 200
    assert client.get("/test/supplier", headers=supplier).status_code == 200


def test_disabled_account_is_refused_at_once(guarded_app, auth_headers, db):
    user = UserFactory()
    headers = auth_headers(user)
    user.is_active = False
    db.session.commit()

    response = guarded_app.test_client().get("/test/login", headers=headers)

    assert response.status_code == 403
    assert response.json["error"]["code"] == "ACCOUNT_DISABLED"
