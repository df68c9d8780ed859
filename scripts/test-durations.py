"""Regenerate the "Where the time goes" section of docs/testing.md from a pytest JUnit report.

    make test                   (writes instance/junit.xml)
    make test-durations         (.venv/bin/python scripts/test-durations.py instance/junit.xml)
 The section lists the time per test directory (summed over
tests: with several workers the wall-clock time is shorter) and the 30 slowest tests; it is
rewritten between the two marker lines, never typed by hand.
"""

from __future__ import annotations

import argparse
import re
import xml.etree.ElementTree as ET  # noqa: S405 (our own pytest's report)
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "testing.md"
BEGIN = "<!-- durations:begin (scripts/test-durations.py writes this section) -->"
END = "<!-- durations:end -->"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("junit", type=Path)
    parser.add_argument("--wall", type=float, help="the run's wall-clock seconds")
    parser.add_argument("--workers", default="", help="how many test workers ran")
    args = parser.parse_args()
    root = ET.parse(args.junit).getroot()  # noqa: S314
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    wall = args.wall or (float(suite.get("time", 0)) if suite is not None else 0)
    cases = []
    for case in root.iter("testcase"):
        classname = case.get("classname", "")
        module = classname.replace(".", "/")
        directory = "/".join(module.split("/")[:2])
        cases.append((float(case.get("time", 0)), f"{module}.py::{case.get('name')}", directory))
    per_dir: dict[str, list[float]] = defaultdict(list)
    for seconds, _name, directory in cases:
        per_dir[directory].append(seconds)
    lines = [BEGIN, ""]
    total = sum(seconds for seconds, _, _ in cases)
    summary = f"{len(cases)} tests, {total / 60:.1f} minutes of test time"
    if wall:
        summary += f", {wall / 60:.1f} minutes wall clock"
    if args.workers:
        summary += f" on {args.workers} workers"
    lines += [summary + ".", "", "| directory | tests | minutes |", "| --- | ---: | ---: |"]
    for directory, times in sorted(per_dir.items(), key=lambda item: -sum(item[1])):
        lines.append(f"| `{directory}` | {len(times)} | {sum(times) / 60:.1f} |")
    lines += ["", "The 30 slowest tests:", "", "| seconds | test |", "| ---: | --- |"]
    for seconds, name, _ in sorted(cases, reverse=True)[:30]:
        lines.append(f"| {seconds:.1f} | `{name}` |")
    lines += ["", END]
    text = DOC.read_text(encoding="utf-8")
    section = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    DOC.write_text(section.sub(lambda _: "\n".join(lines), text), encoding="utf-8")
    print(f"{DOC.relative_to(ROOT)}: {summary}")


if __name__ == "__main__":
    main()
