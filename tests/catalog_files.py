"""Catalog files for tests: a small catalog, or a copy of the real one, with one file changed.

The real catalog is an entry file (`procedure_catalog.yaml`) listing one file per procedure and
per life event (docs/decisions/0041-catalog-one-procedure-per-file.md). A test that needs a
malformed catalog writes a small one (the entry file with a few procedures) or copies the folder
and changes one file, instead of rewriting 500 KB of YAML.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "procedure_catalog.yaml"
PROCEDURES = ROOT / "catalog" / "procedures"
LIFE_EVENTS = ROOT / "catalog" / "life-events"

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (safe)


def write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def edit(path: Path, change: Callable[[Any], Any]) -> None:
    """Read a YAML file, let `change` alter the data in place, and write it back."""
    data = read(path)
    change(data)
    write(path, data)


def procedure_file(entry: Path, procedure_id: str) -> Path:
    return entry.parent / "catalog" / "procedures" / f"{procedure_id}.yaml"


def life_event_file(entry: Path, event_id: str) -> Path:
    return entry.parent / "catalog" / "life-events" / f"{event_id}.yaml"


def small_catalog(
    folder: Path, procedures: Iterable[str] = ("juminhyo-copy",), life_events: Iterable[str] = ()
) -> Path:
    """A catalog with the real entry file's city, offices, workflows and option lists, and only
    the named procedures and life events (copied); returns its entry file."""
    procedures, life_events = list(procedures), list(life_events)
    data = read(ENTRY)
    data["procedures"] = []
    for procedure_id in procedures:
        shutil.copy(PROCEDURES / f"{procedure_id}.yaml", _folder(folder, "procedures"))
        data["procedures"].append(f"catalog/procedures/{procedure_id}.yaml")
    data["life_events"] = []
    for event_id in life_events:
        shutil.copy(LIFE_EVENTS / f"{event_id}.yaml", _folder(folder, "life-events"))
        data["life_events"].append(f"catalog/life-events/{event_id}.yaml")
    # The other life events the procedures name: written in place, without their checklists
    # (which name procedures this catalog does not have).
    named = {
        event for p in procedures for event in read(PROCEDURES / f"{p}.yaml").get("life_events", [])
    }
    for event_id in sorted(named - set(life_events)):
        event = read(LIFE_EVENTS / f"{event_id}.yaml")
        data["life_events"].append({k: event[k] for k in ("id", "label", "label_en", "label_easy")})
    entry = folder / "procedure_catalog.yaml"
    write(entry, data)
    return entry


def copy_catalog(folder: Path) -> Path:
    """A copy of the whole real catalog (its files unchanged); returns its entry file."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ENTRY, folder / ENTRY.name)
    shutil.copytree(ROOT / "catalog", folder / "catalog")
    return folder / ENTRY.name


def _folder(root: Path, name: str) -> Path:
    folder = root / "catalog" / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder
