"""``flask users ...``: operator commands for accounts."""

from flask import Flask


def register_cli(app: Flask) -> None:
    @app.cli.group("users")
    def users_group():
        """Create and manage user accounts."""
