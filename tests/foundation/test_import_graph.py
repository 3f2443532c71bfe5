"""No import cycles between app's packages and top-level modules: a lower domain never
imports a higher one (it sends a signal instead, see app/signals.py)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"


def node(path: Path, app: Path = APP) -> str:
    """A package of app/ (``orders``), a top-level module (``db``), or ``app`` itself."""
    parts = path.relative_to(app).parts
    if len(parts) > 1:
        return parts[0]
    return "app" if parts[0] == "__init__.py" else Path(parts[0]).stem


def imported(tree: ast.AST) -> set[str]:
    """The ``app.…`` modules a module imports, anywhere in it (functions included)."""
    names = set()
    for statement in ast.walk(tree):
        if isinstance(statement, ast.Import):
            names.update(alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            if statement.module == "app":  # from app import orders
                names.update(f"app.{alias.name}" for alias in statement.names)
            else:
                names.add(statement.module)
    return {name for name in names if name == "app" or name.startswith("app.")}


def edges(app: Path = APP) -> set[tuple[str, str, str]]:
    """(importer, imported, the importing file) between the nodes."""
    nodes = {node(path, app) for path in app.rglob("*.py")}
    found = set()
    for path in app.rglob("*.py"):
        for name in imported(ast.parse(path.read_text(), str(path))):
            parts = name.split(".")
            target = parts[1] if len(parts) > 1 and parts[1] in nodes else "app"
            if target != node(path, app):
                found.add((node(path, app), target, str(path.relative_to(app.parent))))
    return found


def import_graph() -> dict[str, dict[str, set[str]]]:
    """{importer: {imported: {the files that import it}}}."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for source, target, path in edges():
        graph[source][target].add(path)
    return graph


def cycles(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """The groups of nodes that import one another, directly or not (Tarjan's strongly
    connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(vertex: str) -> None:
        index[vertex] = low[vertex] = len(index)
        stack.append(vertex)
        for target in graph.get(vertex, {}):
            if target not in index:
                visit(target)
                low[vertex] = min(low[vertex], low[target])
            elif target in stack:
                low[vertex] = min(low[vertex], index[target])
        if low[vertex] == index[vertex]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == vertex:
                    break
            if len(group) > 1:
                groups.append(group)

    for vertex in sorted(graph):
        if vertex not in index:
            visit(vertex)
    return [sorted(group) for group in groups]


def cycle_in(graph: dict[str, dict[str, set[str]]], group: set[str]) -> list[str]:
    """A path from the group's first node back to itself, within the group."""
    start = min(group)
    paths = [[start]]
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]]):
            if target == start:
                return [*path, start]
            if target in group and target not in path:
                paths.append([*path, target])
    raise AssertionError(group)


def describe(graph: dict[str, dict[str, set[str]]], group: list[str]) -> str:
    """The group, one cycle through it and the files behind each of its imports."""
    cycle = cycle_in(graph, set(group))
    steps = [
        f"  {a} -> {b}: {', '.join(sorted(graph[a][b]))}"
        for a, b in zip(cycle, cycle[1:], strict=False)
    ]
    return f"{', '.join(group)}: " + " -> ".join(cycle) + "\n" + "\n".join(steps)


def test_app_packages_import_one_another_without_cycles():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n".join(describe(graph, c) for c in found)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b": {"a.py"}}, "b": {"c": {"b.py"}}, "c": {"a": {"c.py"}}, "d": {}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert describe(graph, ["a", "b", "c"]).startswith("a, b, c: a -> b -> c -> a\n")
