from sqlalchemy import func, select

from app.auth import seed
from app.auth.models import SupplierProfile, User, UserRole
from app.extensions import db
from tests.auth.conftest import audit_actions, bearer, fresh
from tests.factories.auth import UserFactory


def _users(app, *args):
    result = app.test_cli_runner().invoke(args=["users", *args])
    db.session.expire_all()
    return result


def test_cli_create_supplier_is_approved(app, login):
    result = _users(
        app,
        "create",
        "Shop@Example.co.ke",
        "--password",
        "Strong2025x",
        "--role",
        "supplier",
        "--business-name",
        "Kenyatta Ave Phones",
        "--verified",
    )

    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "shop@example.co.ke"))
    assert user.role == UserRole.SUPPLIER and user.is_verified
    assert user.supplier_profile.is_approved is True
    assert login("shop@example.co.ke", "Strong2025x").status_code == 200


def test_cli_create_refuses_weak_password_and_duplicates(app):
    UserFactory(email="taken@example.co.ke")

    weak = _users(app, "create", "a@example.co.ke", "--password", "weak")
    taken = _users(app, "create", "taken@example.co.ke", "--password", "Strong2025x")
    supplier = _users(
        app, "create", "s@example.co.ke", "--password", "Strong2025x", "--role", "SUPPLIER"
    )

    assert weak.exit_code != 0 and "Weak password" in weak.output
    assert taken.exit_code != 0 and "already exists" in taken.output
    assert supplier.exit_code != 0 and "business_name" in supplier.output


def test_cli_set_role_and_disable(app, client, signed_in):
    user = UserFactory()
    session = signed_in(user)

    assert _users(app, "set-role", user.email, "FINANCE_ADMIN").exit_code == 0
    assert fresh(user).role == UserRole.FINANCE_ADMIN and user.admin_profile is not None
    assert _users(app, "disable", user.email).exit_code == 0

    me = client.get("/api/auth/me", headers=bearer(session["access_token"]))
    assert me.status_code == 401 and me.json["error"]["code"] == "TOKEN_REVOKED"
    assert fresh(user).is_active is False
    assert {"auth.role_changed", "auth.account_disabled"} <= set(audit_actions())
    assert _users(app, "enable", user.email).exit_code == 0
    assert _users(app, "disable", "ghost@example.co.ke").exit_code != 0


def test_seed_is_idempotent_and_usable(login):
    seed.seed()
    db.session.commit()
    seed.seed()
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(User)) == len(seed.ACCOUNTS)
    suppliers = db.session.scalars(select(SupplierProfile)).all()
    assert len(suppliers) == 3
    assert all(p.is_approved and p.user.is_verified and p.business_name for p in suppliers)
    assert {p.user.email for p in suppliers} == {
        f"supplier{n}@quantumgear.co.ke" for n in (1, 2, 3)
    }
    roles = set(db.session.scalars(select(User.role)))
    assert roles == set(UserRole)
    response = login("admin@quantumgear.co.ke", seed.DEMO_PASSWORD)
    assert response.status_code == 200
