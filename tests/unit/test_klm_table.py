"""The 60-second table in docs/benchmarks.md (written by bench/klm.py, issue 22) covers every
online procedure of the catalog, once each, with an estimate; the benchmark itself is not run here
(it needs a browser and minutes)."""

from __future__ import annotations

import re
from pathlib import Path

from portal.catalog import load_catalog
from tests.catalog_files import ENTRY

DOCS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
START = "<!-- klm-table:start"
END = "<!-- klm-table:end -->"


def _table_rows() -> dict[str, list[str]]:
    text = DOCS.read_text(encoding="utf-8")
    assert START in text and END in text, "the klm-table markers are missing"
    table = text[text.index(START) : text.index(END)]
    rows: dict[str, list[str]] = {}
    for line in table.splitlines():
        match = re.match(r"^\| [^|]*\(`([a-z0-9-]+)`\) \|", line)
        if match:
            assert match.group(1) not in rows, f"{match.group(1)} is in the table twice"
            rows[match.group(1)] = [cell.strip() for cell in line.strip("|").split("|")]
    return rows


def test_the_table_covers_every_online_procedure():
    catalog = load_catalog(ENTRY)
    online = {p.id for p in catalog.procedures if p.channel != "counter" and p.ended is None}
    rows = _table_rows()
    assert set(rows) == online, (
        f"missing: {sorted(online - set(rows))}; not online: {sorted(set(rows) - online)} "
        "(run .venv/bin/python bench/klm.py --network loopback)"
    )
    for procedure_id, cells in rows.items():
        estimate = float(cells[8])
        assert estimate > 0, procedure_id
        if cells[9] != "yes":  # a procedure over the target says why, from the catalog
            assert catalog.procedure(procedure_id).klm_note, f"{procedure_id}: no klm_note"
