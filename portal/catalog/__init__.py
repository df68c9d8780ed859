"""The procedure catalog: loading `procedure_catalog.yaml` and its files into frozen models.

`load_catalog()` raises `CatalogError` listing every problem with its file and YAML path;
`create_app()` lets that stop start-up, and `flask catalog check` prints it. How the catalog is
spread over files (one procedure per file): `portal.catalog.loader`.
"""

from __future__ import annotations

from pathlib import Path

from portal.catalog.loader import CatalogError, Stamp, read_catalog, stamp, validate
from portal.catalog.schema import CatalogData, Procedure

__all__ = ["CatalogData", "CatalogError", "Procedure", "load_catalog"]

# Parsed catalogs by entry file, with the stamp of every file (and folder) read for them: an app
# made again from an unchanged catalog (every test's app fixture, each gunicorn worker) reuses the
# frozen models instead of parsing and validating 500 KB of YAML again.
_CACHE: dict[Path, tuple[dict[Path, Stamp], CatalogData]] = {}


def load_catalog(path: str | Path) -> CatalogData:
    """The validated catalog, parsed once per content: unchanged files give the same object."""
    path = Path(path).resolve()
    cached = _CACHE.get(path)
    if cached and all(stamp(file) == stamped for file, stamped in cached[0].items()):
        return cached[1]
    raw = read_catalog(path)
    data = validate(raw)
    _CACHE[path] = (raw.read, data)
    return data
