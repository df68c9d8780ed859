"""Import rules of `portal/`, checked statically (no module is imported to check them).

The graph: one node per module of `portal/` (a package is its `__init__.py`). Every `import` and
`from ... import` statement counts wherever it stands — at module level, inside a function or a
method, under `if TYPE_CHECKING:` — because lazy imports inside functions are exactly how a circle
hides, and a type-only import is still a dependency of the design. Relative imports are resolved
against the importing module's package; `from pkg import name` is an edge to `pkg.name` when that
is a module of `portal/`, otherwise to `pkg` itself.

Parent packages, the rule picked: Python runs `portal/x/__init__.py` before `portal.x.y`, so
importing `portal.x.y` also imports `portal.x`. That implied edge is added when the importer lives
OUTSIDE `portal.x` (entering a package from outside runs its `__init__`, and a circle through it
is a real one). A module's edges to its own ancestor packages — implied or written, such as a
route module's `from portal.staff import bp` — are left out: the ancestor's `__init__` has
always started running before any of its submodules can, so such an edge adds no ordering (the
blueprint defined in `__init__.py` and imported from there by the route modules is the shape of
every package, docs/decisions/0038-package-shape-and-import-rules.md). A package's `__init__`
importing its own submodules is an edge like any other, so two submodules importing each other
through it still show up, and so does a circle that enters a package whose `__init__` loads its
pages.

Rules (the test names say which failed and list every offending import with file and line):
(a) no import circle: no strongly connected component of more than one module;
(b) the submission engine (`portal/submissions/`) imports no channel package;
(c) the resident records (`portal/records/`) import no mock: neither the card or payment mocks
    (`portal.mock_*`) nor their own mock (`portal.records.mock`, which itself may import nothing
    of another mock either), so a real records adapter or a real card service replaces either one
    alone.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "portal"

CHANNELS = (
    "portal.bundles",
    "portal.staff",
    "portal.counter",
    "portal.appointments",
    "portal.payments",
    "portal.kiosk",
    "portal.assisted",
)
ENGINE = "portal.submissions"
RECORDS = "portal.records"


@dataclass(frozen=True)
class Edge:
    source: str  # the importing module
    target: str  # the imported module
    file: str  # the importing module's file, relative to the root
    line: int
    implied: bool = False  # the parent package of a module imported (see the docstring)

    def __str__(self) -> str:
        how = " (its package, implied)" if self.implied else ""
        return f"{self.source} -> {self.target}{how}  [{self.file}:{self.line}]"


def find_modules(root: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every .py file under `root/package`."""
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        name = ".".join(parts)
        modules[name] = path
    return modules


def is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module itself, or the nearest enclosing module of `portal/` (an attribute path)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _targets(node: ast.AST, source: str, modules: dict[str, Path]) -> list[str]:
    """The modules of `portal/` one import statement names."""
    if isinstance(node, ast.Import):
        return [t for alias in node.names if (t := _known(alias.name, modules))]
    assert isinstance(node, ast.ImportFrom)
    if node.level:
        base = source if is_package(source, modules) else source.rpartition(".")[0]
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        where = f"{base}.{node.module}" if node.module else base
    else:
        where = node.module or ""
    found = []
    for alias in node.names:
        submodule = f"{where}.{alias.name}"
        target = submodule if submodule in modules else _known(where, modules)
        if target:
            found.append(target)
    return found


def import_graph(root: Path, package: str = PACKAGE) -> list[Edge]:
    """Every edge between modules of `root/package`, by the rule in the module docstring."""
    modules = find_modules(root, package)
    edges: set[Edge] = set()
    for source, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        own = set(ancestors(source))
        file = str(path.relative_to(root))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target in _targets(node, source, modules):
                if target != source and target not in own:
                    edges.add(Edge(source, target, file, node.lineno))
                for parent in ancestors(target):
                    if parent in modules and parent not in own and parent != source:
                        edges.add(Edge(source, parent, file, node.lineno, implied=True))
    # One implied edge per pair (the first line), beside every written one.
    first: dict[tuple[str, str], Edge] = {}
    for edge in sorted(edges, key=lambda e: e.line):
        if edge.implied:
            first.setdefault((edge.source, edge.target), edge)
    kept = [e for e in edges if not e.implied] + list(first.values())
    return sorted(kept, key=lambda e: (e.source, e.target, e.line, e.implied))


def circles(edges: Iterable[Edge]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
        graph.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
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
    return sorted(found)


def describe_circles(edges: list[Edge]) -> str:
    lines = []
    for component in circles(edges):
        members = set(component)
        lines.append(f"circle of {len(component)} modules: {', '.join(component)}")
        lines += [f"    {e}" for e in edges if e.source in members and e.target in members]
    return "\n".join(lines)


def forbidden(edges: Iterable[Edge], sources: str, targets: Iterable[str]) -> list[Edge]:
    return [
        e
        for e in edges
        if is_within(e.source, sources)
        and not e.implied
        and any(is_within(e.target, t) for t in targets)
    ]


def records_mock_imports(edges: Iterable[Edge]) -> list[Edge]:
    """Imports of a mock by the records package: a module whose dotted name has a part starting
    with `mock` (portal.mock_jpki, portal.mock_pay, portal.records.mock); the records mock's own
    modules may import each other."""

    def mock_root(name: str) -> str | None:
        parts = name.split(".")
        for i, part in enumerate(parts):
            if part.startswith("mock"):
                return ".".join(parts[: i + 1])
        return None

    return [
        e
        for e in edges
        if is_within(e.source, RECORDS)
        and not e.implied
        and (root := mock_root(e.target)) is not None
        and not is_within(e.source, root)
    ]


@pytest.fixture(scope="module")
def portal_edges() -> list[Edge]:
    return import_graph(ROOT)


def test_no_import_circles_in_portal(portal_edges):
    report = describe_circles(portal_edges)
    if report:
        pytest.fail("Import circles in portal/ (break each one):\n" + report, pytrace=False)


def test_the_engine_imports_no_channel(portal_edges):
    bad = forbidden(portal_edges, ENGINE, CHANNELS)
    if bad:
        listing = "\n".join(f"    {e}" for e in bad)
        pytest.fail(f"portal/submissions/ imports a channel package:\n{listing}", pytrace=False)


def test_the_records_import_no_mock(portal_edges):
    bad = records_mock_imports(portal_edges)
    if bad:
        listing = "\n".join(f"    {e}" for e in bad)
        pytest.fail(f"portal/records/ imports a mock:\n{listing}", pytrace=False)


def test_the_graph_sees_every_kind_of_import(portal_edges):
    """Sanity: known edges of each kind are in the graph (lazy, relative-free, from-package)."""
    pairs = {(e.source, e.target) for e in portal_edges}
    assert ("portal", "portal.catalog") in pairs  # module level, `from portal.catalog import`
    assert ("portal", "portal.submissions.service") in pairs  # inside create_app()
    assert len(pairs) > 300


# The checker itself, on tiny package trees written to tmp_path.


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_the_checker_finds_a_circle_hidden_in_a_function(tmp_path):
    _tree(
        tmp_path,
        {
            "fake/__init__.py": "",
            "fake/a.py": "from fake import b\n",
            "fake/b.py": "def later():\n    from fake.c import thing\n",
            "fake/c.py": "from . import a\n",
            "fake/d.py": "import fake.a\n",
        },
    )
    edges = import_graph(tmp_path, "fake")
    assert circles(edges) == [["fake.a", "fake.b", "fake.c"]]
    report = describe_circles(edges)
    assert "fake.b -> fake.c" in report and "fake/b.py:2" in report


def test_the_checker_allows_a_blueprint_in_the_package_init(tmp_path):
    """Route modules import the blueprint from their package's `__init__`: no circle, even when
    the `__init__` also imports them at its end (the rule in the module docstring; portal's own
    packages leave that import to the app factory, see decision 0038)."""
    _tree(
        tmp_path,
        {
            "fake/__init__.py": "",
            "fake/staff/__init__.py": "bp = 1\nfrom fake.staff import cases, views  # noqa\n",
            "fake/staff/views.py": "from fake.staff import bp\nfrom fake.staff import service\n",
            "fake/staff/cases.py": "from fake.staff import bp, service\n",
            "fake/staff/service.py": "from fake.engine import run\n",
            "fake/engine/__init__.py": "",
            "fake/engine/run.py": "X = 1\n",
        },
    )
    edges = import_graph(tmp_path, "fake")
    assert circles(edges) == []
    pairs = {(e.source, e.target) for e in edges}
    assert ("fake.staff", "fake.staff.cases") in pairs
    assert ("fake.staff.views", "fake.staff.service") in pairs
    assert ("fake.staff.service", "fake.engine") in pairs  # implied: entering the package


def test_the_checker_finds_a_circle_through_a_package_init(tmp_path):
    """Entering another package runs its `__init__`: a circle through it is a real one."""
    _tree(
        tmp_path,
        {
            "fake/__init__.py": "",
            "fake/engine/__init__.py": "from fake.engine import views  # noqa\n",
            "fake/engine/views.py": "def f():\n    from fake.bundles.models import B\n",
            "fake/bundles/__init__.py": "",
            "fake/bundles/models.py": "import fake.engine.service\n",
            "fake/engine/service.py": "",
        },
    )
    edges = import_graph(tmp_path, "fake")
    assert circles(edges) == [["fake.bundles.models", "fake.engine", "fake.engine.views"]]


def test_the_checker_finds_forbidden_imports(tmp_path):
    _tree(
        tmp_path,
        {
            "portal/__init__.py": "",
            "portal/submissions/__init__.py": "",
            "portal/submissions/service.py": "def f():\n    from portal.bundles import plan\n",
            "portal/bundles/__init__.py": "",
            "portal/bundles/plan.py": "",
            "portal/records/__init__.py": "from portal.records.base import R  # noqa\n",
            "portal/records/base.py": "from portal.records import mock\n",
            "portal/records/mock.py": "from portal.mock_jpki.personas import load\n",
            "portal/mock_jpki/__init__.py": "",
            "portal/mock_jpki/personas.py": "",
        },
    )
    edges = import_graph(tmp_path)
    assert [(e.source, e.target) for e in forbidden(edges, ENGINE, CHANNELS)] == [
        ("portal.submissions.service", "portal.bundles.plan")
    ]
    assert [(e.source, e.target) for e in records_mock_imports(edges)] == [
        ("portal.records.base", "portal.records.mock"),
        ("portal.records.mock", "portal.mock_jpki.personas"),
    ]
