"""Reading the catalog's files into one validated `CatalogData`, each problem named by its file.

The entry file (`procedure_catalog.yaml`) holds the city, departments, counters, workflows and
the named option lists, and lists the files of the life events and procedures in the order they
are shown:

    procedures:
      - catalog/procedures/juminhyo-copy.yaml   # a file holding one procedure (a mapping)
      - {id: inline-example, ...}               # an entry written in place also works

A file name is relative to the entry file. Every `*.yaml` in a folder that such a list names
files from must be listed (a new procedure file that is not listed is reported, not ignored).
`include:` names further files whose top-level lists are appended (entries written in place).

A field's `options:` is a list of options or the name of a list under `option_lists:`; named
lists replace YAML anchors, which cannot cross files.

Problems are reported as `file: path inside the file: message`, e.g.
`catalog/procedures/hoiku-riyou.yaml: steps[2].fields[0].when: unknown name 'x'`.
"""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from portal.catalog.checks import check_catalog
from portal.catalog.schema import CatalogData, KebabId, Option

LIST_KEYS = ("departments", "counters", "life_events", "procedures")
# Lists whose entries may each be a file of their own (a file name instead of a mapping).
FILE_KEYS = ("life_events", "procedures")

Stamp = tuple[int, int]

OPTION_LISTS = TypeAdapter(dict[KebabId, list[Option]])


class CatalogError(ValueError):
    """The catalog is invalid; `problems` lists each one as 'file: yaml.path: message'."""

    def __init__(self, source: Path, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"invalid procedure catalog {source}:\n{listing}")


# libyaml's parser when PyYAML was built with it (about 7 times faster on the catalog).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def stamp(path: Path) -> Stamp:
    """What tells a changed file (or folder: a file added or removed) from an unchanged one."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (-1, -1)
    return (stat.st_mtime_ns, stat.st_size)


@dataclass
class Origin:
    """Where an entry of a top-level list was written: its file, and its path in that file
    ('' when the file holds the entry alone)."""

    file: Path
    path: str


@dataclass
class RawCatalog:
    """The catalog's data as read from its files, before validation, and where each part is."""

    entry: Path
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[tuple[str, int], Origin] = field(default_factory=dict)
    read: dict[Path, Stamp] = field(default_factory=dict)  # every file and folder read
    problems: list[str] = field(default_factory=list)

    def name(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.entry.parent)).as_posix()

    def locate(self, problem: str) -> str:
        """'procedures[3].steps[0]: message' → 'catalog/procedures/x.yaml: steps[0]: message'."""
        match = re.match(r"([a-z_]+)\[(\d+)\]", problem)
        origin = match and self.origins.get((match.group(1), int(match.group(2))))
        if not match or origin is None:
            return f"{self.name(self.entry)}: {problem}"
        rest = problem[match.end() :]
        if origin.path:
            return f"{self.name(origin.file)}: {origin.path}{rest}"
        return f"{self.name(origin.file)}: {rest.removeprefix('.').removeprefix(': ')}"


def read_yaml(path: Path, read: dict[Path, Stamp], name: str) -> dict[str, Any]:
    """One file's top-level mapping; raises CatalogError naming the file (as `name`)."""
    read[path] = stamp(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (safe)
    except FileNotFoundError as error:
        raise CatalogError(path, [f"{name}: file not found"]) from error
    except yaml.YAMLError as error:
        raise CatalogError(path, [f"{name}: not valid YAML: {error}"]) from error
    if not isinstance(data, dict):
        raise CatalogError(path, [f"{name}: the top level must be a mapping"])
    return data


def read_catalog(path: str | Path) -> RawCatalog:
    """The entry file with its includes, entry files and option lists resolved (not validated:
    `problems` holds what was found so far)."""
    raw = RawCatalog(entry=Path(path).resolve())
    raw.data = read_yaml(raw.entry, raw.read, raw.name(raw.entry))
    for key in LIST_KEYS:
        for index in range(len(raw.data.get(key) or [])):
            raw.origins[(key, index)] = Origin(raw.entry, f"{key}[{index}]")
    _merge_includes(raw)
    for key in FILE_KEYS:
        _read_entry_files(raw, key)
    _resolve_option_lists(raw)
    return raw


def _merge_includes(raw: RawCatalog) -> None:
    for included in raw.data.pop("include", None) or []:
        path = raw.entry.parent / included
        try:
            part = read_yaml(path, raw.read, raw.name(path))
        except CatalogError as error:
            raw.problems += error.problems
            continue
        for key, value in part.items():
            if key not in LIST_KEYS or not isinstance(value, list):
                raw.problems.append(f"{raw.name(path)}: {key}: only lists of {LIST_KEYS} here")
                continue
            entries = raw.data.setdefault(key, [])
            for index in range(len(value)):
                raw.origins[(key, len(entries) + index)] = Origin(path, f"{key}[{index}]")
            entries.extend(value)


def _read_entry_files(raw: RawCatalog, key: str) -> None:
    entries = raw.data.get(key)
    if not isinstance(entries, list):
        return
    listed: set[Path] = set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, str):
            continue
        path = (raw.entry.parent / entry).resolve()
        listed.add(path)
        try:
            entries[index] = read_yaml(path, raw.read, raw.name(path))
        except CatalogError as error:
            where = f"(listed as {key}[{index}] in {raw.name(raw.entry)})"
            raw.problems += [f"{problem} {where}" for problem in error.problems]
            continue
        raw.origins[(key, index)] = Origin(path, "")
    for folder in sorted({path.parent for path in listed} - {raw.entry.parent}):
        raw.read[folder] = stamp(folder)  # a file added to the folder changes its stamp
        for path in sorted(folder.glob("*.yaml")):
            if path not in listed:
                where = f"{key}: in {raw.name(raw.entry)}"
                raw.problems.append(f"{raw.name(path)}: not listed under {where}")


def _resolve_option_lists(raw: RawCatalog) -> None:
    """Validate `option_lists:` and put each named list in place of its name."""
    try:
        lists = OPTION_LISTS.validate_python(raw.data.pop("option_lists", None) or {})
    except ValidationError as error:
        raw.problems += [
            f"{raw.name(raw.entry)}: {_location(('option_lists', *e['loc']))}: {_message(e)}"
            for e in error.errors()
        ]
        return
    named = {
        name: [option.model_dump(exclude_none=True) for option in options]
        for name, options in lists.items()
    }

    def resolve(node: Any, path: str) -> None:
        if isinstance(node, list):
            for index, item in enumerate(node):
                resolve(item, f"{path}[{index}]")
        elif isinstance(node, dict):
            options = node.get("options")
            if isinstance(options, str) and "type" in node:
                if options in named:
                    node["options"] = copy.deepcopy(named[options])
                else:
                    known = ", ".join(named) or "none"
                    problem = f"{path}.options: unknown option list {options!r} (known: {known})"
                    raw.problems.append(raw.locate(problem))
            for key, value in node.items():
                if key != "example_answers":
                    resolve(value, f"{path}.{key}")

    for key in FILE_KEYS:
        entries = raw.data.get(key)
        if isinstance(entries, list):
            resolve(entries, key)


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: Any) -> str:
    return str(error["msg"]).removeprefix("Value error, ")


def validate(raw: RawCatalog) -> CatalogData:
    """The validated catalog, or CatalogError with every problem named by its file."""
    if raw.problems:
        raise CatalogError(raw.entry, raw.problems)
    try:
        data = CatalogData.model_validate(raw.data)
    except ValidationError as error:
        problems = [raw.locate(f"{_location(e['loc'])}: {_message(e)}") for e in error.errors()]
        raise CatalogError(raw.entry, problems) from None
    problems = [raw.locate(problem) for problem in check_catalog(data)]
    if problems:
        raise CatalogError(raw.entry, problems)
    return data
