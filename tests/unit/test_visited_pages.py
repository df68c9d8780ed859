"""Every page the browser suite visits (tests/e2e/visited.py, scripts/a11y_visited.py, decision
0080): which documents count as one state, the recording shared by the test workers, and an
invalid recorded page failing the check."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests import html_check
from tests.e2e import visited

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import a11y_visited  # noqa: E402 - a script's module, found on its folder

PHONE = {"width": 412, "height": 915}

PAGE = """<!doctype html><html lang="ja"><head><title>{title} | いすみ市</title>
<script nonce="{nonce}">var x = "<div>";</script></head><body>
<main><h1>{title}</h1><!-- <div role="alert"> -->
<form method="post"><input type="hidden" name="csrf_token" value="{nonce}">
<label for="f-name">氏名</label><input id="f-name" name="name" value="{value}">
<ul>{items}</ul></form></main></body></html>"""


def page(title="申請", nonce="abc", value="", items=1, extra="") -> str:
    html = PAGE.format(title=title, nonce=nonce, value=value, items="<li>a</li>" * items)
    return html.replace("</main>", extra + "</main>")


def test_pages_differing_in_text_values_and_repeats_are_one_state():
    one = visited.state_key(page(), PHONE, True)
    assert visited.state_key(page("別の申請", "xyz", "大原 太郎", items=5), PHONE, True) == one


@pytest.mark.parametrize(
    "other",
    [
        page(extra='<div aria-labelledby="t">x</div>'),
        page(extra='<p class="notice" role="status">saved</p>'),
        page().replace('lang="ja"', 'lang="en"'),
        page().replace('id="f-name"', 'id="f-other"'),
    ],
)
def test_a_change_of_structure_is_another_state(other):
    assert visited.state_key(other, PHONE, True) != visited.state_key(page(), PHONE, True)


def test_viewport_javascript_and_mobile_are_part_of_the_state():
    keys = {
        visited.state_key(page(), PHONE, True),
        visited.state_key(page(), {"width": 1280, "height": 800}, True),
        visited.state_key(page(), PHONE, False),
        visited.state_key(page(), PHONE, True, mobile=True),
    }
    assert len(keys) == 4


def test_each_state_is_kept_once_across_workers(tmp_path):
    """Two workers (here two calls) see the same state: the first file wins (O_EXCL)."""
    first = visited.keep(tmp_path, "http://127.0.0.1:1/a?x=1", 200, page(), PHONE, True)
    again = visited.keep(tmp_path, "http://127.0.0.1:1/b", 404, page("b"), PHONE, True)
    other = visited.keep(tmp_path, "http://127.0.0.1:1/a", 200, page(), PHONE, False)
    assert first[1] and not again[1] and other[1]
    assert first[0] == again[0] != other[0]
    saved = json.loads((tmp_path / f"{first[0]}.json").read_text())
    assert saved["path"] == "/a?x=1" and saved["status"] == 200 and saved["lang"] == "ja"
    assert saved["html"] == page() and saved["viewport"] == PHONE and saved["javascript"]


def test_a_run_is_started_finished_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv(visited.ENV, "")  # restored after the test
    folder = tmp_path / "visited"
    (folder).mkdir()
    (folder / "stale.json").write_text("{}")  # from the run before: cleared
    visited.start_run(folder)
    assert os.environ[visited.ENV] == str(folder)
    assert visited.load(folder)[0]["finished"] is None
    key, _ = visited.keep(folder, "http://127.0.0.1:1/", 200, page(), PHONE, True)
    visited.keep(folder, "http://127.0.0.1:1/x", 200, page(extra="<p>"), PHONE, True)

    class Page:
        portal_document_key = key

    visited.audited(Page())  # the audit fixture audited a page in the first state
    run = visited.finish_run(folder, documents=3, exitstatus=0, e2e_tests=2, seconds=0.25)
    assert (run["documents"], run["states"], run["audited_in_suite"]) == (3, 2, 1)
    run, states = visited.load(folder)
    assert run["finished"] and len(states) == 2
    assert [s["audited_in_suite"] for s in states if s["key"] == key] == [True]


def test_without_a_recording_make_a11y_says_so_and_fails(tmp_path, monkeypatch):
    result = a11y_visited.audit(
        None, "http://127.0.0.1:1", None, {}, html_check.Batch(), folder=tmp_path / "none"
    )
    assert not result["recorded"]
    assert "run `make test` first" in a11y_visited.failures(result)[0]
    assert "未確認" in a11y_visited.summary_ja(result)
    skipped = a11y_visited.audit(None, "", None, {}, html_check.Batch(), skip=True)
    assert a11y_visited.failures(skipped) == []
    assert "確認していません" in a11y_visited.summary_ja(skipped)


@pytest.mark.skipif(html_check.jar() is None, reason="the Nu Html Checker is not installed")
def test_an_invalid_visited_page_fails_the_html_check(tmp_path, monkeypatch):
    """An invalid page the browser suite passed through (aria-labelledby on a plain div, the
    class of error issue 26 names) is an HTML error of the check, named by its address."""
    folder = tmp_path / "visited"
    monkeypatch.setenv(visited.ENV, "")  # restored after the test
    visited.start_run(folder)
    for path, extra in (("/good", ""), ("/bad", '<div aria-labelledby="f-name">x</div>')):
        key, _ = visited.keep(folder, f"http://127.0.0.1:1{path}", 200, page(extra=extra), PHONE,
                              True)  # fmt: skip
        (folder / f"{key}.audited").touch()  # axe is not what this test is about
    visited.finish_run(folder, documents=2, exitstatus=0, e2e_tests=1)
    batch = html_check.Batch()
    result = a11y_visited.audit(None, "http://127.0.0.1:1", None, {}, batch, folder=folder)
    assert result["recorded"] and result["states"] == 2 and result["audited_here"] == 0
    checked, errors = batch.validate()
    assert checked == 2
    assert len(errors) == 1, errors
    assert errors[0].startswith("/bad (visited)") and "aria-labelledby" in errors[0]
