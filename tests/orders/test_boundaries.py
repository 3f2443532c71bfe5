"""Orders never import payments (payments import orders, and react to its events)."""

import ast
from pathlib import Path

import app.orders


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_the_orders_package_does_not_import_payments():
    package = Path(app.orders.__file__).parent
    offenders = {
        path.name: sorted(m for m in imported_modules(path) if m.startswith("app.payments"))
        for path in package.glob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}
