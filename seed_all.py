"""Load sample data for development. Safe to run again: every seeder upserts."""

from importlib import import_module

from app import create_app
from app.extensions import db

# Each module exposes seed() -> str (a one-line summary), run in this order.
SEEDERS = (
    "app.auth.seed",
    "app.catalog.seed",
    "app.admin.seed",
    "app.supplier.seed",
    "app.payouts.seed",
    "app.returns.seed",
    "app.dispatch.seed",
    "app.analytics.seed",
)


def main() -> None:
    app = create_app()
    with app.app_context():
        for module_name in SEEDERS:
            summary = import_module(module_name).seed()
            db.session.commit()
            print(f"seeded {module_name.split('.')[1]}: {summary}")


if __name__ == "__main__":
    main()
