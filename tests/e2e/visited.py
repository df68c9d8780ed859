"""Every HTML document the browser suite loads from the portal, recorded for the audit of pages
a test merely passes through (issue 26: "0 Nu Html Checker errors and 0 axe violations on every
page the browser suite visits"; decision 0080).

The `audit` fixture (tests/e2e/axe.py) checks the page states a test asks for. Every other page
the browser loads on the way (a redirect's target, the page after a button, a language switch)
is recorded here: each browser context a test opens on the portal gets a `response` listener
(`record`) that keeps every main-frame document response from the live server (any status,
text/html) with the markup exactly as served, its address, status, language, viewport and
whether JavaScript runs.

Only distinct states are kept: a state is the markup's structure (every start tag with its id,
classes, role, type, lang and ARIA attributes, the text left out), the viewport and JavaScript
on or off (`state_key`, computed in Python from the served markup, about 1 ms a page). The
de-duplication is shared across pytest-xdist workers: each state is one file
`<key>.json` created with O_EXCL in the run's folder, so the first worker to see a state keeps
it and the others skip it. The folder, `build/visited-pages/` (git-ignored), is cleared when a
run that includes the browser tests starts (`start_run`, from tests/conftest.py); `run.json`
says when the run started, on which commit, and (`finish_run`) how many documents and states
it recorded.

The worker that keeps a state also hands its markup to the Nu Html Checker batch at the end of
the worker (tests/html_check.py), so `make test` fails on invalid markup of any visited page.
axe runs on the recorded states in `make a11y` (scripts/a11y_visited.py), on a copy of each
served at its own address, with the project's axe configuration.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "build" / "visited-pages"
# Set by the run's first process (start_run) and inherited by the xdist workers: where this
# run records. Unset: nothing is recorded (a run without browser tests).
ENV = "PORTAL_VISITED_PAGES_DIR"
RUN_FILE = "run.json"

# This process's counts: documents seen, states it was the first to keep, documents whose body
# could not be read, seconds spent recording (keys, files; not the wait for a document's body to
# arrive, which the page's own load waits for too: the listener waits in a greenlet of its own
# while the test goes on).
STATS: dict[str, float] = {"documents": 0, "states": 0, "errors": 0, "seconds": 0.0}

_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_ATTR = re.compile(r"([^\s=/>\"']+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_RAW = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.S | re.I)
# Attributes whose value is part of the state (as tests/e2e/axe.py's _SKELETON); of every other
# attribute only its name and whether it is empty count (names, references, tokens and values
# differ between residents, not between states).
_VALUED = {"id", "class", "role", "type", "lang", "dir", "for", "aria-labelledby",
           "aria-describedby", "aria-controls", "aria-owns", "aria-live", "aria-current",
           "aria-hidden", "aria-expanded", "aria-invalid", "headers", "scope", "autocomplete",
           "inputmode", "method"}  # fmt: skip
# What a resident typed or chose: not part of the state at all.
_ANSWERS = {"value", "checked", "selected"}
# Repeated blocks (list items, options, rows of a summary) up to this many tags long count once.
_BLOCK = 8


def _collapse(lines: list[str]) -> list[str]:
    """Drops every block of up to _BLOCK lines that repeats the block just before it: a list
    of five items has the structure of a list of two."""
    out: list[str] = []
    for line in lines:
        out.append(line)
        for size in range(1, _BLOCK + 1):
            if len(out) >= 2 * size and out[-size:] == out[-2 * size : -size]:
                del out[-size:]
                break
    return out


def skeleton(html: str) -> str:
    """The structure of served markup: one line per start tag (scripts' and styles' content,
    comments and text left out)."""
    html = _RAW.sub(lambda m: f"<{m.group(1)}>", _COMMENT.sub("", html))
    lines = []
    for tag in _TAG.finditer(html):
        parts = [tag.group(1).lower()]
        for name, value in _ATTR.findall(tag.group(2)):
            name = name.lower()
            value = value.strip("\"'")
            if name in _VALUED:
                parts.append(f"{name}={value}")
            elif name in _ANSWERS:
                continue
            else:
                parts.append(name + ("+" if value.strip() else "-"))
        lines.append(" ".join(parts))
    return "\n".join(_collapse(lines))


def state_key(html: str, viewport: dict | None, javascript: bool, mobile: bool = False) -> str:
    """A visited page's state: its structure, the viewport, mobile or not, JavaScript on or
    off. Two pages with the same key differ only in text and attribute values."""
    size = f"{(viewport or {}).get('width')}x{(viewport or {}).get('height')}"
    head = f"{size} mobile={mobile} js={javascript}"
    return hashlib.sha256(f"{head}\n{skeleton(html)}".encode()).hexdigest()[:32]


_LANG = re.compile(r"<html\b[^>]*?\blang=[\"']?([A-Za-z-]+)", re.I)


def store(folder: Path, key: str, entry: dict) -> bool:
    """Keeps one state, once across every worker of the run: True when this call kept it."""
    try:
        descriptor = os.open(folder / f"{key}.json", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(entry, out, ensure_ascii=False)
    return True


def keep(
    folder: Path,
    url: str,
    status: int,
    html: str,
    viewport: dict | None,
    javascript: bool,
    mobile: bool = False,
    touch: bool = False,
) -> tuple[str, bool]:
    """Records one document: its state's key, and True when it is a state no process of this
    run had kept yet (the caller then validates its markup)."""
    key = state_key(html, viewport, javascript, mobile)
    parts = urlsplit(url)
    lang = _LANG.search(html)
    entry = {
        "key": key,
        "path": parts.path + (f"?{parts.query}" if parts.query else ""),
        "status": status,
        "lang": lang.group(1) if lang else "",
        "viewport": viewport,
        "mobile": mobile,
        "touch": touch,
        "javascript": javascript,
        "test": os.environ.get("PYTEST_CURRENT_TEST", "").split(" (")[0],
        "html": html,
    }
    if store(folder, key, entry):
        return key, True
    return key, False


def audited(page) -> None:
    """The `audit` fixture audited `page` with axe: the state of the document it shows (as
    recorded when it was loaded) needs no second axe run in `make a11y`."""
    target, key = folder(), getattr(page, "portal_document_key", None)
    if target is None or key is None:
        return
    (target / f"{key}.audited").touch()


def folder() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def record(
    context, origin: str, javascript: bool = True, mobile: bool = False, touch: bool = False
) -> None:
    """Record every main-frame HTML document `context` loads from `origin` (the live server).
    A no-op unless this run records (start_run)."""
    target = folder()
    if target is None:
        return
    from tests import html_check

    def on_response(response) -> None:
        started = time.perf_counter()
        try:
            waited = _on_response(response)
        finally:
            STATS["seconds"] += time.perf_counter() - started - waited

    def _on_response(response) -> float:
        waited = 0.0
        try:
            request = response.request
            if request.resource_type != "document":
                return 0.0
            frame = response.frame
            if frame.parent_frame is not None:
                return 0.0
            if 300 <= response.status < 400:  # a redirect has no page; its target is recorded
                return 0.0
            page = frame.page
            page.portal_document_key = None  # until this document is recorded
            if not response.url.startswith(origin + "/"):
                return 0.0
            if not response.headers.get("content-type", "").startswith("text/html"):
                return 0.0
            waiting = time.perf_counter()
            html = response.text()  # this listener's greenlet waits; the test goes on
            waited = time.perf_counter() - waiting
            viewport = page.viewport_size
        except Exception:  # noqa: BLE001 - the page went on before its body was read
            STATS["errors"] += 1
            return waited
        key, new = keep(
            target, response.url, response.status, html, viewport, javascript, mobile, touch
        )
        page.portal_document_key = key
        STATS["documents"] += 1
        if new:
            STATS["states"] += 1
            html_check.keep(response.url, html)
        return waited

    context.on("response", on_response)


def _git_head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def start_run(target: Path = DEFAULT_DIR) -> Path:
    """Clears the folder and starts a recording (the run's first process, before any worker
    starts): the workers inherit where to record through the environment."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    run = {
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": _git_head(),
        "finished": None,
    }
    (target / RUN_FILE).write_text(json.dumps(run, indent=1) + "\n")
    os.environ[ENV] = str(target)
    return target


def finish_run(
    target: Path, documents: int, exitstatus: int, e2e_tests: int, seconds: float = 0.0
) -> dict:
    """Writes the run's totals into run.json (read by `make a11y`)."""
    run = json.loads((target / RUN_FILE).read_text())
    run.update(
        finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        documents=documents,
        states=len(list(target.glob("*.json"))) - 1,
        audited_in_suite=len(list(target.glob("*.audited"))),
        seconds=round(seconds, 1),
        exitstatus=exitstatus,
        e2e_tests=e2e_tests,
    )
    (target / RUN_FILE).write_text(json.dumps(run, indent=1) + "\n")
    return run


def load(target: Path = DEFAULT_DIR) -> tuple[dict | None, list[dict]]:
    """The recording of the last browser-suite run: (run.json or None, the states, each
    marked `audited_in_suite` when the `audit` fixture audited a page in that state)."""
    run_file = target / RUN_FILE
    if not run_file.exists():
        return None, []
    states = [
        json.loads(path.read_text(encoding="utf-8"))
        | {"audited_in_suite": path.with_suffix(".audited").exists()}
        for path in sorted(target.glob("*.json"))
        if path.name != RUN_FILE
    ]
    return json.loads(run_file.read_text()), states
