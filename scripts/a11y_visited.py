"""`make a11y`'s audit of every page the browser suite visited (issue 26, decision 0080).

`make test` records each distinct state of every HTML document the browser tests load
(tests/e2e/visited.py, build/visited-pages/), and marks the states the `audit` fixture already
audited with axe during the tests. Here, on `make a11y`'s live server:

- every recorded state goes into the Nu Html Checker batch of the report (tests/html_check.py);
- every state not audited during the tests is audited with axe (accessibility/axe-config.json):
  its markup as served is shown at its own address on this server (so the stylesheet loads, as
  tests/e2e/axe.py's show_copy does), in a context of the recorded viewport, mobile and touch.
  A page recorded with JavaScript keeps its scripts, which run; anything they send (a fetch, a
  form submitted by a timer, a navigation) is answered 204 and changes nothing, so the page
  stays the recorded one. A page recorded without JavaScript is shown without its scripts and
  with its <noscript> content, as such a browser shows it.

Without a recording (no `make test` in this clone since the folder was last cleared), or with
one whose run did not finish, nothing is claimed: `recorded` is False and scripts/a11y.py fails
unless told `--skip-visited`, and the report says the visited pages were not checked.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from tests.e2e import visited
from tests.e2e.axe import without_javascript

_QUIET = ("fetch", "xhr", "eventsource", "websocket", "ping")


def _show(page, url: str, html: str, javascript: bool) -> None:
    body = html if javascript else without_javascript(html)

    def answer(route) -> None:
        request = route.request
        if request.url == url and request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)
        elif request.resource_type == "document" or request.resource_type in _QUIET:
            route.fulfill(status=204)  # a navigation answered 204 leaves the page as it is
        elif not javascript and request.resource_type == "script":
            route.abort()
        else:
            route.continue_()

    page.route("**/*", answer)
    page.goto(url, wait_until="domcontentloaded")
    # A script that leaves the page while it loads stops the load event, not the audit.
    with contextlib.suppress(Exception):
        page.wait_for_load_state("load", timeout=5_000)


def audit(
    browser,
    server_url: str,
    axe,
    options: dict,
    html_check,
    skip: bool = False,
    folder: Path = visited.DEFAULT_DIR,
) -> dict:
    """Audits the recording in `folder`; returns what the report says about it."""
    if skip:
        return {"recorded": False, "skipped": True, "violations": [], "states": 0}
    run, states = visited.load(folder)
    if run is None or not run.get("finished"):
        return {
            "recorded": False,
            "skipped": False,
            "unfinished": run is not None,
            "violations": [],
            "states": 0,
        }
    started = time.monotonic()
    contexts: dict[tuple, object] = {}
    violations: list[dict] = []
    failures: list[str] = []
    checked = 0
    for state in states:
        html_check.keep(f"{state['path']} (visited)", state["html"])
        if state["audited_in_suite"]:
            continue
        viewport = state.get("viewport") or {"width": 1280, "height": 800}
        shape = (viewport["width"], viewport["height"], state["mobile"], state["touch"])
        if shape not in contexts:
            contexts[shape] = browser.new_context(
                viewport=viewport,
                is_mobile=state["mobile"],
                has_touch=state["touch"],
                locale="ja-JP",
                timezone_id="Asia/Tokyo",
                bypass_csp=True,  # lets axe-core be injected
            )
        page = contexts[shape].new_page()
        try:
            _show(page, server_url + state["path"], state["html"], state["javascript"])
            result = axe.run(page, options=options).response
            checked += 1
            for v in result["violations"]:
                violations.append(
                    {
                        "path": state["path"],
                        "test": state.get("test", ""),
                        "javascript": state["javascript"],
                        "viewport": viewport,
                        "id": v["id"],
                        "tags": v["tags"],
                        "targets": [", ".join(n["target"]) for n in v["nodes"][:3]],
                    }
                )
        except Exception as error:  # noqa: BLE001 - any failure is reported, not hidden
            failures.append(f"visited page {state['path']} not audited: {str(error)[:300]}")
        finally:
            page.close()
    for context in contexts.values():
        context.close()
    return {
        "recorded": True,
        "run": {k: v for k, v in run.items()},
        "states": len(states),
        "audited_in_suite": sum(1 for s in states if s["audited_in_suite"]),
        "audited_here": checked,
        "violations": violations,
        "failures": failures,
        "seconds": round(time.monotonic() - started, 1),
    }


def failures(result: dict) -> list[str]:
    """The report's automated failures from the visited pages (none when skipped on purpose)."""
    if result.get("skipped"):
        return []
    if not result["recorded"]:
        why = (
            "the browser-suite run that recorded them did not finish"
            if result.get("unfinished")
            else "nothing recorded in build/visited-pages/"
        )
        return [
            f"visited pages not checked: {why}; run `make test` first (or `make a11y "
            "A11Y_SKIP_VISITED=1` for a report that says they were not checked)"
        ]
    return result["failures"] + [
        f"{v['path']} (visited by {v['test'] or 'a browser test'}): axe {v['id']} {v['targets']}"
        for v in result["violations"]
    ]


def summary_ja(result: dict) -> str:
    """One paragraph for the report's 試験したページ."""
    if result.get("skipped"):
        return (
            "ブラウザテストが訪れたページ：このレポートでは確認していません"
            "（`make a11y A11Y_SKIP_VISITED=1`）。"
        )
    if not result["recorded"]:
        return (
            "ブラウザテストが訪れたページ：**未確認**（`make test` の記録がないか、記録した実行が"
            "終わっていません）。自動試験の失敗として数えます。"
        )
    run = result["run"]
    return (
        f"ブラウザテストが訪れたページ：`make test`（{run['started']} 開始、コミット "
        f"{run['commit']}、ブラウザテスト {run['e2e_tests']} 件）が読み込んだ HTML 文書 "
        f"{run['documents']} 件を構造で分けた {result['states']} 状態の全部を Nu Html Checker "
        f"で検証し、axe で試験しました（テスト中に {result['audited_in_suite']} 状態、ここで "
        f"{result['audited_here']} 状態）。axe 違反 {len(result['violations'])} 件。"
    )
