"""The engine is composed, never reaching out (issue 19; docs/decisions/0037): nothing in
portal/submissions/ imports a channel, and nothing outside it borrows its private names."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "portal" / "submissions"
CHANNELS = (
    "portal.bundles",
    "portal.staff",
    "portal.counter",
    "portal.appointments",
    "portal.payments",
    "portal.kiosk",
    "portal.assisted",
)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in the file, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_the_engine_imports_no_channel():
    reaching_out = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in ENGINE.rglob("*.py")
        for module, _ in imports(path)
        if module.startswith(CHANNELS)
    ]
    assert reaching_out == []


def test_nothing_outside_the_engine_imports_its_private_names():
    borrowed = []
    for path in list((ROOT / "portal").rglob("*.py")) + list((ROOT / "tests").rglob("*.py")):
        if ENGINE in path.parents:
            continue
        for module, names in imports(path):
            if module.startswith("portal.submissions"):
                tail = module.split(".")[-1]
                private = [n for n in names if n.startswith("_")]
                if tail.startswith("_") or private:
                    borrowed.append(f"{path.relative_to(ROOT)}: {module} {private}")
    assert borrowed == []
