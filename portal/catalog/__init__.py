"""The procedure catalog: loading `procedure_catalog.yaml` into frozen models, and checking it.

`load_catalog()` raises `CatalogError` listing every problem with its YAML path; `create_app()`
lets that stop start-up, and `flask catalog check` prints it. The entry file may name further YAML
files under `include:`; their top-level lists are appended to the entry file's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from portal.catalog.checks import check_catalog
from portal.catalog.schema import CatalogData, Procedure

__all__ = ["CatalogData", "CatalogError", "Procedure", "load_catalog"]

LIST_KEYS = ("departments", "counters", "life_events", "procedures")


class CatalogError(ValueError):
    """The catalog is invalid; `problems` lists each one as 'yaml.path: message'."""

    def __init__(self, source: Path, problems: list[str]) -> None:
        self.problems = problems
        listing = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"invalid procedure catalog {source}:\n{listing}")


# libyaml's parser when PyYAML was built with it (about 7 times faster on the catalog).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Parsed catalogs by entry file, with the (mtime, size) of every file read for them: an app made
# again from an unchanged catalog (every test's app fixture, each gunicorn worker) reuses the
# frozen models instead of parsing and validating 500 KB of YAML again.
_CACHE: dict[Path, tuple[dict[Path, tuple[int, int]], CatalogData]] = {}


def _stamp(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (-1, -1)
    return (stat.st_mtime_ns, stat.st_size)


def _read_yaml(path: Path, read: dict[Path, tuple[int, int]] | None = None) -> dict[str, Any]:
    if read is not None:
        read[path] = _stamp(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (safe)
    except FileNotFoundError as error:
        raise CatalogError(path, [f"file not found: {path}"]) from error
    except yaml.YAMLError as error:
        raise CatalogError(path, [f"not valid YAML: {error}"]) from error
    if not isinstance(data, dict):
        raise CatalogError(path, ["the top level must be a mapping"])
    return data


def _merge_includes(
    path: Path, data: dict[str, Any], read: dict[Path, tuple[int, int]]
) -> dict[str, Any]:
    for included in data.pop("include", None) or []:
        part = _read_yaml(path.parent / included, read)
        for key, value in part.items():
            if key not in LIST_KEYS:
                problem = f"{key}: only {', '.join(LIST_KEYS)} may be included"
                raise CatalogError(path.parent / included, [problem])
            data.setdefault(key, []).extend(value)
    return data


def _location(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: ErrorDetails) -> str:
    message = error["msg"]
    return message.removeprefix("Value error, ")


def load_catalog(path: str | Path) -> CatalogData:
    """The validated catalog, parsed once per content: unchanged files give the same object."""
    path = Path(path).resolve()
    cached = _CACHE.get(path)
    if cached and all(_stamp(file) == stamp for file, stamp in cached[0].items()):
        return cached[1]
    read: dict[Path, tuple[int, int]] = {}
    data = _validate(path, _merge_includes(path, _read_yaml(path, read), read))
    _CACHE[path] = (read, data)
    return data


def _validate(path: Path, raw: dict[str, Any]) -> CatalogData:
    try:
        data = CatalogData.model_validate(raw)
    except ValidationError as error:
        problems = [f"{_location(e['loc'])}: {_message(e)}" for e in error.errors()]
        raise CatalogError(path, problems) from None
    problems = check_catalog(data)
    if problems:
        raise CatalogError(path, problems)
    return data
