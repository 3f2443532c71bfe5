"""``flask users ...``: operator commands for accounts (each is audited)."""

from __future__ import annotations

import click
from flask import Flask
from marshmallow import ValidationError

from app.auth import accounts
from app.auth.models import User, UserRole
from app.auth.schemas import strong_password
from app.errors import ApiError
from app.extensions import db

ROLE = click.Choice([role.value for role in UserRole], case_sensitive=False)


def _user(email: str) -> User:
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"No user with email {email}")
    return user


def _run(action):
    """Run one operation and commit, turning domain errors into a clean CLI failure."""
    try:
        result = action()
        db.session.commit()
    except ApiError as error:
        db.session.rollback()
        details = f" {error.details}" if error.details else ""
        raise click.ClickException(f"{error.message}{details}") from None
    return result


def register_cli(app: Flask) -> None:
    @app.cli.group("users")
    def users_group():
        """Create and manage user accounts."""

    @users_group.command("create")
    @click.argument("email")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--role", type=ROLE, default=UserRole.CUSTOMER.value, show_default=True)
    @click.option("--first-name", default="Quantum", show_default=True)
    @click.option("--last-name", default="Gear", show_default=True)
    @click.option("--verified", is_flag=True, help="Mark the email as verified.")
    @click.option("--business-name", help="Required for suppliers (created approved).")
    def create(email, password, role, first_name, last_name, verified, business_name):
        """Create a user of any role (a supplier made here is approved)."""
        try:
            strong_password(password)
        except ValidationError as error:
            raise click.ClickException(f"Weak password: {' '.join(error.messages)}") from None
        user = _run(
            lambda: accounts.create_user(
                email=email,
                password=password,
                first_name=first_name,
                last_name=last_name,
                role=UserRole(role.upper()),
                business_name=business_name,
                verified=verified,
                approved=True,
            )
        )
        click.echo(f"Created user {user.id} {user.email} ({user.role})")

    @users_group.command("set-role")
    @click.argument("email")
    @click.argument("role", type=ROLE)
    @click.option("--business-name", help="Needed when making someone a supplier.")
    def set_role(email, role, business_name):
        """Change a user's role."""
        user = _run(
            lambda: accounts.set_role(
                _user(email), UserRole(role.upper()), business_name=business_name
            )
        )
        click.echo(f"{user.email} is now {user.role}")

    @users_group.command("disable")
    @click.argument("email")
    def disable(email):
        """Disable an account and sign out all its sessions."""
        user = _run(lambda: accounts.disable_user(_user(email)))
        click.echo(f"Disabled {user.email}")

    @users_group.command("enable")
    @click.argument("email")
    def enable(email):
        """Re-enable a disabled (or locked) account."""
        user = _run(lambda: accounts.enable_user(_user(email)))
        click.echo(f"Enabled {user.email}")
