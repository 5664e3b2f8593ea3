"""The floors of the house (docs/architecture.md), checked on every import, those inside functions included.

The project's import graph is read from the source (no module is executed): one edge per ``import`` or
``from … import`` statement wherever it stands. The test fails on a circle among modules and on an import from a
floor to a floor above it. The floors are written down here, once; there is no exception list.
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PACKAGES = ("tenants", "blueprints", "jobs")

# Lowest first. A module sits on the floor of the most precise pattern it matches (the one naming the most
# characters): ``blueprints.web.errors`` is web, not an area; ``jobs.worker`` is an entry point, not a job family.
# A module may import from its own floor and the floors below it, never from a floor above.
FLOORS = (
    # Tenancy, the database, the scope, storage, the migration runner: knows nothing of any area.
    ("ground", ("tenants", "tenants.*")),
    # Queue plumbing: queue names, enqueue after commit, the failure hook, the schedule (by dotted name). It
    # imports no job family and no blueprint.
    ("queue", ("jobs",)),
    # Helpers with no area of their own (spreadsheet cells, phone numbers, uploads) and the transports that
    # carry mail and SMS out of the machine.
    ("shared", ("blueprints.shared", "blueprints.shared.*")),
    # HTTP plumbing shared by every page: htmx, redirects, errors, languages, security headers, keys.
    ("web", ("blueprints.web", "blueprints.web.*")),
    # The areas' models, forms and services.
    ("areas", ("blueprints.*", "blueprints.*.*")),
    # Job families: each takes ids, enters a scope and calls the services of the areas.
    ("jobs", ("jobs.*",)),
    # Pages: blueprints and the request guards they use (who is signed in, who may see what).
    (
        "pages",
        ("blueprints.*.views", "blueprints.*.*_views", "blueprints.*.access", "blueprints.accounts.auth"),
    ),
    # Entry points: the factory, the blueprint registry, the worker, the demo command.
    ("entry", ("app", "blueprints", "blueprints.demo", "blueprints.demo.*", "jobs.worker")),
)


def project_modules() -> dict[str, str]:
    found = {"app": os.path.join(ROOT, "app.py")}
    for package in PACKAGES:
        for directory, _, files in os.walk(os.path.join(ROOT, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    found[module.removesuffix(".__init__")] = path
    return found


def import_graph(modules: dict[str, str]) -> dict[str, set[str]]:
    """Module → the project modules it imports (the most precise one each statement names)."""

    def known(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read(), path)
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                names = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            else:
                continue
            for name in names:
                target = known(name)
                if target and target != module:
                    graph[module].add(target)
    return graph


def floor_of(module: str) -> int:
    matches = [
        (len(pattern.replace("*", "")), index)
        for index, (_, patterns) in enumerate(FLOORS)
        for pattern in patterns
        if fnmatch.fnmatchcase(module, pattern)
    ]
    if not matches:
        raise AssertionError(f"{module} is on no floor: add it to FLOORS")
    return max(matches)[1]


def circles(graph: dict[str, set[str]], nodes) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


MODULES = project_modules()
GRAPH = import_graph(MODULES)


def test_the_graph_sees_imports_inside_functions():
    # jobs/__init__.py imports the database only inside on_commit: the edge must be there.
    assert "tenants.db" in GRAPH["jobs"]
    assert len(MODULES) > 80 and sum(len(edges) for edges in GRAPH.values()) > 300


def test_every_module_is_on_a_floor():
    for module in MODULES:
        floor_of(module)


def test_no_import_reaches_a_floor_above():
    upward = [
        f"{module} ({FLOORS[floor_of(module)][0]}) imports {target} ({FLOORS[floor_of(target)][0]})"
        for module in sorted(GRAPH)
        for target in sorted(GRAPH[module])
        if floor_of(target) > floor_of(module)
    ]
    assert not upward, "\n".join(upward)


def test_no_circle_among_modules():
    found = circles(GRAPH, MODULES)
    assert not found, "\n".join(" ↔ ".join(component) for component in found)


def test_the_circle_finder_finds_circles():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, "abcd") == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}, "ab") == []


MAX_LINES = 500


def test_no_module_is_longer_than_500_lines():
    """Modules of one purpose: past 500 lines a module holds several; split it by purpose (migrations, tests
    and vendored files aside: none of them is read here)."""
    long = []
    for module, path in sorted(MODULES.items()):
        with open(path, encoding="utf-8") as source:
            count = sum(1 for _ in source)
        if count > MAX_LINES:
            long.append(f"{module}: {count} lines")
    assert long == [], "\n".join(long)


def test_one_access_module_per_concern_and_no_two_loaders_of_one_name():
    """Two functions of one name in two guards once meant two rules: trainings/access.py (who may see what)
    and signing/access.py (who runs a live page) must not define the same loader."""
    names: dict[str, list[str]] = defaultdict(list)
    for module in ("blueprints.trainings.access", "blueprints.signing.access"):
        with open(MODULES[module], encoding="utf-8") as source:
            tree = ast.parse(source.read())
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                names[node.name].append(module)
    assert {name: where for name, where in names.items() if len(where) > 1} == {}


def test_areas_register_their_tables_and_seed_rows_with_the_ground(app, make_tenant):
    """The ground knows the areas' tables only from their registration, and runs their seeds in a new schema."""
    from sqlalchemy import select

    from blueprints.audit.models import AuditEvent
    from blueprints.audit.services import Actor, record
    from tenants import schema, tenant_scope
    from tenants.db import db

    assert "blueprints.signing.models" in schema.registered_models()
    assert "tenant.enrollments" in schema.metadata("tenant").tables

    def seed(session):
        record(Actor.system("seed"), "organization.seeded", object_type="organization", session=session)

    schema.register_seed("tenant", seed)
    try:
        make_tenant("acme", admin="ada@acme.fr")
    finally:
        schema._SEEDS["tenant"].pop(f"{seed.__module__}.{seed.__qualname__}")
    with tenant_scope("acme", app):
        assert db.session.scalars(select(AuditEvent.action)).all()[:1] == ["organization.seeded"]
