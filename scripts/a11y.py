"""The JIS X 8341-3:2016 conformance report (issue 26, decision 0065): `make a11y`.

    scripts/a11y.py [--seed N] [--crawl-picks N]     build the sample, check it, write the report
    scripts/a11y.py judge SC [SC ...] --who NAME --result 適合|不適合|適用なし [--note TEXT]
                                                       record a judgement in criteria.yaml
    scripts/a11y.py translations                       copy accessibility/translations.yaml into
                                                       the committed report's known issues

The criteria, their evidence and the recorded judgements live in accessibility/criteria.yaml.
The run starts a live server with the demo data (the browser suite's helpers), visits the page
sample (scripts/a11y_sample.py) in Chromium, runs axe (accessibility/axe-config.json), the cheap
tool checks (tests/e2e/a11y_checks.py) and, in one batch, the Nu Html Checker (tests/html_check.py)
on every sampled page, and writes accessibility/report.md and accessibility/report.json. It
also audits every page state the browser suite visited (recorded by the last `make test` in
build/visited-pages/, scripts/a11y_visited.py, decision 0080): the Nu Html Checker on all of
them and axe on those the tests did not audit; without a recording it fails, unless
`--skip-visited`, and the report says they were not checked.

Exit status: 1 on any automated failure (an axe violation, an HTML error, a failed tool check, a
sampled state not reached, a named test that does not exist, a visited page not checked) or a
criterion without evidence;
0 otherwise. A stale judgement lowers the claim but does not fail.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

A11Y = ROOT / "accessibility"
CRITERIA = A11Y / "criteria.yaml"
REPORT_JSON = A11Y / "report.json"
REPORT_MD = A11Y / "report.md"
TRANSLATIONS = A11Y / "translations.yaml"
DEVELOPER = "開発者による判定"
RESULTS = ("適合", "不適合", "適用なし")
TOOL_NAMES = {
    "axe": "axe-core",
    "nu-html-checker": "Nu Html Checker",
    "headings": "見出し（h1が一つ、レベルの飛ばしなし）",
    "landmarks": "ランドマーク",
    "names": "操作部品のアクセシブルな名前",
    "targets": "ターゲットのサイズ（24 px、キオスクは44 px）",
    "reflow": "200 %・400 %拡大でのリフロー",
    "text-spacing": "テキストの間隔の上書き",
    "forced-colors": "強制カラー",
    "reduced-motion": "視差効果を減らす（reduced motion）",
    "status-messages": "ステータスメッセージのライブリージョン",
    "focus-order": "Tabキーでのフォーカス順序と表示順",
    "focus-visible": "フォーカスの表示と、固定表示の要素に隠れないこと",
    "language-of-parts": '部分の言語（日本語に lang="ja"、英語の代わりの表示に lang="en"）',
}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()


def load_criteria() -> dict:
    return yaml.safe_load(CRITERIA.read_text())


def digest(doc: dict, groups: list[str]) -> str:
    """sha256 over the judged files (each group's globs), path and content."""
    h = hashlib.sha256()
    for name in groups:
        for pattern in doc["files"][name]:
            for path in sorted(glob.glob(str(ROOT / pattern), recursive=True)):
                h.update(Path(path).relative_to(ROOT).as_posix().encode() + b"\0")
                h.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return "sha256:" + h.hexdigest()


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:
        return True


def judge(args) -> int:
    doc = load_criteria()
    by_id = {c["id"]: c for c in doc["criteria"]}
    commit = git("rev-parse", "--short=12", "HEAD")
    for sc in args.criteria:
        criterion = by_id[sc]
        previous = (criterion.get("judgements") or [{}])[-1]
        files = (
            args.files.split(",") if args.files else previous.get("files", ["templates", "styles"])
        )
        if previous and "digest" not in previous:  # a draft entry written by hand: record it
            criterion["judgements"].pop()
        criterion.setdefault("judgements", []).append(
            {
                "who": args.who,
                "result": args.result,
                "note": args.note or previous.get("note", ""),
                "files": files,
                "when": dt.date.today().isoformat(),
                "commit": commit,
                "digest": digest(doc, files),
            }
        )
        criterion["judgements"] = criterion["judgements"][
            -3:
        ]  # the latest decides; keep history short
    CRITERIA.write_text(
        "# JIS X 8341-3:2016 A/AA criteria and WCAG 2.1/2.2 A/AA additions, with their evidence.\n"
        "# Written by `scripts/a11y.py judge` (decision 0065); edit tools/tests by hand.\n"
        + yaml.dump(doc, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, width=100)
    )
    return 0


def existing_tests(node_ids: set[str]) -> set[str]:
    """The node ids (or prefixes of parametrized ones) that pytest collects."""
    files = sorted({n.split("::")[0] for n in node_ids})
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *files],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.splitlines()
    collected = {line.strip() for line in out if "::" in line}
    return {n for n in node_ids if any(c == n or c.startswith(n + "[") for c in collected)}


def axe_rules(page) -> dict[str, list[str]]:
    """criterion -> axe rule ids that run with axe-config.json, from axe's own tags."""
    options = json.loads((A11Y / "axe-config.json").read_text())
    tags = set(options["runOnly"]["values"])
    rules = page.evaluate("() => axe.getRules()")
    mapping: dict[str, list[str]] = {}
    for rule in rules:
        if not tags & set(rule["tags"]) or {"experimental", "deprecated"} & set(rule["tags"]):
            continue
        for tag in rule["tags"]:
            m = re.fullmatch(r"wcag(\d)(\d)(\d+)", tag)
            if m:
                mapping.setdefault(".".join(m.groups()), []).append(rule["ruleId"])
    return mapping


def _shown_url(url: str) -> str:
    """The address as the report shows it: no secret status token, no OpenID parameters."""
    url = re.sub(r"/status/[^/?]+", "/status/…", url)
    return url.split("?", 1)[0] if url.startswith("/mock-jpki/") else url


# What the page itself says it is shown in: the language menu's current entry (日本語 and やさしい
# 日本語 share lang="ja"), else <html lang>; the display modes from the page's markup.
_SHOWN_IN = """() => {
  const current = document.querySelector('.language-menu [aria-current="true"], '
    + '[name=_action][value^="lang:"][aria-current="true"], '
    + '.kiosk-languages [name=lang][aria-pressed="true"]');
  const html = document.documentElement;
  return {
    current: current ? (current.getAttribute('href') || current.value || '') : '',
    lang: html.lang,
    furigana: !!document.querySelector('.furigana-source'),
    large: Array.from(html.classList).some((c) => c.startsWith('text-')),
    contrast: Array.from(html.classList).some((c) => c.startsWith('contrast-')),
  };
}"""
LANGUAGE_OF_TAG = {"ja": "ja", "en": "en", "zh-Hans": "zh", "ko": "ko", "vi": "vi", "pt-BR": "pt",
                   "ne": "ne"}  # fmt: skip


def shown_in(page, kiosk: bool) -> tuple[str, list[str]]:
    """(language code, modes) of the page as shown: ja, easy, en ...; ふりがな, 大きい文字,
    高コントラスト, JavaScriptなし, キオスク."""
    seen = page.evaluate(_SHOWN_IN)
    chosen = re.search(r"lang[=:](\w+)", seen["current"]) or re.fullmatch(r"(\w+)", seen["current"])
    language = chosen.group(1) if chosen else LANGUAGE_OF_TAG.get(seen["lang"], seen["lang"])
    modes = [
        name
        for name, on in (
            ("ふりがな", seen["furigana"]),
            ("大きい文字", seen["large"]),
            ("高コントラスト", seen["contrast"]),
            ("JavaScriptなし", not page.context.portal_javascript),
            ("キオスク", kiosk),
        )
        if on
    ]
    return language, modes


def run_sample(seed: int, picks: int, only: str | None = None, skip_visited: bool = False) -> dict:
    """Start the server, visit the sample, check every page. Returns the run's findings."""
    import a11y_sample as sample
    import a11y_visited
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    from tests import html_check
    from tests.e2e import a11y_checks
    from tests.e2e.axe import show_copy
    from tests.e2e.conftest import CHROMIUM, start_live_server, stop

    options = json.loads((A11Y / "axe-config.json").read_text())
    # The report keeps every rule's outcome but the nodes of violations and of "needs review"
    # only: axe then lists one node of each other result (the passes were most of its answer),
    # about 0.2 s a page less (decision 0090). The visited pages need the violations only.
    sample_options = options | {"resultTypes": ["violations", "incomplete"]}
    visited_options = options | {"resultTypes": ["violations"]}
    axe = Axe()
    pages: list[dict] = []
    timings: dict[str, float] = {}
    failures: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="portal-a11y-"))
    server, process = start_live_server(workdir)
    try:
        demo = server.flask("demo", "load")
        status_url = re.search(r"demo application .*?: (\S+/status/\S+)", demo).group(1)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
            phone = dict(pw.devices["Pixel 7"])
            phone.pop("default_browser_type", None)

            def context(kind="phone", storage_state=None):
                kiosk_screen = {"viewport": {"width": 1080, "height": 1920}}
                extra = phone if kind in ("phone", "nojs") else kiosk_screen
                if kind == "desktop":
                    extra = {"viewport": {"width": 1280, "height": 800}}
                if kind == "nojs":
                    extra = extra | {"java_script_enabled": False}
                return browser.new_context(
                    **extra,
                    base_url=server.url,
                    locale="ja-JP",
                    timezone_id="Asia/Tokyo",
                    bypass_csp=True,
                    storage_state=storage_state,
                )

            copies = context("phone")  # where a page served without JavaScript is checked

            def audit(label: str, page, kiosk: bool, source: str) -> None:
                started = time.monotonic()
                page.wait_for_load_state("load")
                url = page.url.replace(server.url, "")
                html_check.keep(url, page.content())
                shown = page
                if not page.context.portal_javascript:  # axe and the checks need scripts: the
                    # DOM as served, in a page of the same size that runs none of its own
                    shown = copies.new_page()
                    shown.set_viewport_size(page.viewport_size)
                    shown.route("**/*.js", lambda route: route.abort())
                    # Served at the page's own address: its stylesheet is same-origin only
                    # (CORP), so a copy in about:blank was audited unstyled.
                    show_copy(shown, page.url, page.content())
                result = axe.run(shown, options=sample_options).response
                checks_started = time.monotonic()
                checks = a11y_checks.run_all(shown, kiosk=kiosk or None, timings=timings)
                review = {name: check(shown) for name, check in a11y_checks.REVIEW.items()}
                if shown is not page:
                    shown.close()
                checks_seconds = time.monotonic() - checks_started
                language, modes = shown_in(page, kiosk)
                entry = {
                    "label": label,
                    "url": _shown_url(url),
                    "source": source,
                    "kiosk": kiosk,
                    "language": language,
                    "modes": modes,
                    "viewport": page.viewport_size,
                    "javascript": page.context.portal_javascript,
                    "axe": {
                        "violations": [
                            {
                                "id": v["id"],
                                "tags": v["tags"],
                                "nodes": len(v["nodes"]),
                                "targets": [", ".join(n["target"]) for n in v["nodes"][:3]],
                            }
                            for v in result["violations"]
                        ],
                        "incomplete": sorted(v["id"] for v in result["incomplete"]),
                        "passes": sorted(v["id"] for v in result["passes"]),
                    },
                    "checks": checks,
                    "review": review,
                    "seconds": round(time.monotonic() - started, 2),
                    "checks_seconds": round(checks_seconds, 3),
                }
                pages.append(entry)
                print(
                    f"  {entry['seconds']:5.1f}s {label} [{shown_as(entry)}] {entry['url']}"
                    f" axe:{len(result['violations'])} checks:{sum(map(len, checks.values()))}"
                    f" review:{sum(map(len, review.values()))}"
                )

            def in_language(lang, furigana=False):
                return lambda p: sample.language_pages(p, lang, server, status_url, furigana)

            def signed_in(lang, furigana, groups):
                return lambda p: sample.signed_in_pages(p, lang, server, furigana, groups)

            visits = [
                *[
                    (f"language {lang}", "desktop" if lang == "en" else "phone", in_language(lang))
                    for lang in sample.LANGUAGES
                ],
                *[
                    (f"furigana {lang}", "phone", in_language(lang, True))
                    for lang in sample.FURIGANA_LANGUAGES
                ],
                *[
                    (
                        f"signed-in {'furigana ' if furigana else ''}{lang}",
                        "phone",
                        signed_in(lang, furigana, groups),
                    )
                    for lang, furigana, groups in sample.SIGNED_IN_PLAN
                ],
                ("no javascript", "nojs", sample.no_javascript),
                ("display", "phone", sample.display_modes),
                ("login", "phone", sample.login_and_procedure),
                ("timeout", "phone", lambda p: sample.login_timeout(p, server)),
                ("status", "desktop", lambda p: sample.status_page(p, status_url)),
                ("kiosk", "kiosk", lambda p: sample.kiosk(p, server)),
                *[
                    (
                        f"assisted {lang}",
                        "phone",
                        lambda p, lang=lang: sample.assisted(p, server, lang),
                    )
                    for lang in sample.LANGUAGES
                ],
                ("conditional", "phone", lambda p: sample.conditional_question(p, server)),
            ]
            login = None  # the signed-in resident's cookies, from one signed-in visit to the next
            for name, kind, visit in visits:
                if only and not re.search(only, name):
                    continue
                visit_started, audited = time.monotonic(), len(pages)
                signed_in_visit = name.startswith("signed-in")
                # Each signed-in visit (a language, with or without ふりがな) starts with the login
                # of the one before: the card login's pages are audited by the language visits,
                # and logging in again in each only cost time (decision 0090).
                ctx = context(kind, login if signed_in_visit else None)
                ctx.portal_javascript = kind != "nojs"
                ctx.set_default_timeout(15_000)
                page = ctx.new_page()
                try:
                    for label, shown, kiosk in visit(page):
                        audit(label, shown, kiosk, "型と状態")
                except Exception as error:  # noqa: BLE001 - any failure is reported, not hidden
                    failures.append(f"sample '{name}' stopped at {page.url}: {str(error)[:300]}")
                if signed_in_visit:
                    login = ctx.storage_state()
                ctx.close()
                print(
                    f"  visit '{name}': {len(pages) - audited} pages in"
                    f" {time.monotonic() - visit_started:.1f}s"
                )

            failures += [
                f"sampled state not reached: {m}"
                for m in sample.missing(p["label"] for p in pages)
                if not only
            ]
            ctx = context("phone")
            ctx.portal_javascript = True
            crawled = (
                []  # an --only run picks no crawled page
                if only
                else sample.crawl(ctx.request, ["/", "/life-events/", "/appointments/"])
            )
            sampled = {p["url"] for p in pages}
            picked = sample.pick(crawled, seed, 0 if only else picks, sampled)
            page = ctx.new_page()
            for url in picked:
                try:
                    page.goto(url)
                    audit("クロールから選んだページ", page, False, f"クロール（seed {seed}）")
                except Exception as error:  # noqa: BLE001
                    failures.append(f"crawled page {url}: {str(error)[:300]}")
            visited = a11y_visited.audit(
                browser, server.url, axe, visited_options, html_check, skip_visited or bool(only)
            )
            print(f"  visited pages: {a11y_visited.summary_ja(visited)}")
            page.goto("/")
            page.evaluate(axe.axe_script)  # axe in the page, for its rules and version
            rules, axe_version = axe_rules(page), page.evaluate("() => axe.version")
            ctx.close()
            copies.close()
            browser.close()
    finally:
        stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
    checked, html_errors = html_check.validate()
    return {
        "pages": pages,
        "failures": failures,
        "html_errors": html_errors,
        "html_checked": checked,
        "crawled": len(crawled),
        "picked": picked,
        "axe_rules": rules,
        "axe_version": axe_version,
        "check_timings": timings,
        "visited": visited,
    }


def evaluate(doc: dict, run: dict, tests_found: set[str]) -> dict:
    """Per criterion: the result (適合/不適合/適用なし/要判定), its basis, and the claim."""
    tool_fail: dict[str, list[str]] = {}
    for page in run["pages"]:
        for v in page["axe"]["violations"]:
            tool_fail.setdefault("axe:" + v["id"], []).append(page["url"])
        for check, problems in page["checks"].items():
            for problem in problems:
                tool_fail.setdefault(check, []).append(f"{page['url']}: {problem}")
    for v in run.get("visited", {}).get("violations", []):  # pages the browser suite visited
        tool_fail.setdefault("axe:" + v["id"], []).append(v["path"])
    if run["html_errors"]:
        tool_fail["nu-html-checker"] = run["html_errors"]
    # axe's "needs review" results: found by the tool, judged by a person.
    incomplete: dict[str, set[str]] = {}
    for page in run["pages"]:
        for rule in page["axe"]["incomplete"]:
            incomplete.setdefault(rule, set()).add(page["url"])
    # The report's own checks whose findings a person judges (a11y_checks.REVIEW).
    reviewed: dict[str, list[str]] = {}
    for page in run["pages"]:
        for check, problems in page.get("review", {}).items():
            for problem in problems:
                reviewed.setdefault(check, []).append(
                    f"{page['url']}（{page['label']}）: {problem}"
                )
    criteria = []
    for c in doc["criteria"]:
        rules = sorted(run["axe_rules"].get(c["id"], []))
        tools = list(c.get("tools", []))
        tests = list(c.get("tests", []))
        missing_tests = [t for t in tests if t not in tests_found]
        failed = [
            f"axe {r}: {', '.join(tool_fail['axe:' + r][:3])}"
            for r in rules
            if "axe:" + r in tool_fail
        ]
        failed += [f"{TOOL_NAMES[t]}: {tool_fail[t][0]}" for t in tools if t in tool_fail]
        failed += [f"テストが見つからない: {t}" for t in missing_tests]
        judgements = c.get("judgements") or []
        latest = judgements[-1] if judgements else None
        stale = bool(latest) and latest.get("digest") != digest(doc, latest.get("files", []))
        if failed:
            result = "不適合"
        elif latest:
            result = latest["result"]
        elif c.get("tools_suffice"):
            result = "適合"
        else:
            result = "要判定"
        if latest is None:
            basis = "tools" if c.get("tools_suffice") else "none"
        elif latest["who"] == DEVELOPER:
            basis = "developer"  # supports 配慮 only, stale or not
        elif stale:
            basis = "stale"
        else:
            basis = "named"
        evidence = len(rules) + len(tools) + len(tests) + len(judgements)
        evidence += len(c.get("review_tools", []))
        criteria.append(
            {
                "id": c["id"],
                "title": c["title"],
                "title_en": c["title_en"],
                "level": c["level"],
                "jis": c["jis"],
                "wcag": c.get("wcag", "2.0"),
                "result": result,
                "basis": basis,
                "axe_rules": rules,
                "tools": tools,
                "tests": tests,
                "failed": failed,
                "judgement": (
                    {k: latest.get(k) for k in ("who", "when", "commit", "result", "note")}
                    | {"stale": stale}
                )
                if latest
                else None,
                "evidence": evidence,
                "kind": "ツール"
                if c.get("tools_suffice")
                else ("ツール＋人" if rules or tools or c.get("review_tools") else "人"),
                "axe_needs_review": {
                    rule: sorted(incomplete[rule])[:5] for rule in rules if rule in incomplete
                },
                "review_tools": list(c.get("review_tools", [])),
                "tool_findings": {
                    t: reviewed[t] for t in c.get("review_tools", []) if t in reviewed
                },
            }
        )
    jis = [c for c in criteria if c["jis"]]
    if any(c["basis"] in ("developer", "none") or c["result"] == "要判定" for c in jis):
        claim = "配慮"
    elif any(c["judgement"] and c["judgement"]["stale"] or c["result"] == "不適合" for c in jis):
        claim = "一部準拠"
    else:
        claim = "準拠"
    return {"criteria": criteria, "claim": claim}


STALE_TEXT = "判定の後にページが変わったため、再確認が必要です。"


def translated(issues: list[dict]) -> list[dict]:
    """Each known issue with its title and text in the portal's other languages, from
    accessibility/translations.yaml (decision 0075): the statement page shows them."""
    table = yaml.safe_load(TRANSLATIONS.read_text(encoding="utf-8")) or {}
    for issue in issues:
        issue["titles"] = dict(table.get(issue["title"], {}))
        if issue.get("title_en"):
            issue["titles"].setdefault("en", issue["title_en"])
        issue["texts"] = dict(table.get(issue["text"], {}))
    return issues


def known_issues(criteria: list[dict]) -> list[dict]:
    issues = []
    for c in criteria:
        if c["result"] == "不適合":
            issues.append(
                {
                    "id": c["id"],
                    "title": c["title"],
                    "title_en": c["title_en"],
                    "text": c["failed"][0]
                    if c["failed"]
                    else (c["judgement"] or {}).get("note", ""),
                }
            )
        elif c["basis"] == "stale":  # a named judgement older than the pages (a developer's
            # judgement supports 配慮 only, stale or not: flagged in the report, not listed here)
            issues.append(
                {
                    "id": c["id"],
                    "title": c["title"],
                    "title_en": c["title_en"],
                    "text": STALE_TEXT,
                }
            )
    return translated(issues)


def write_report(doc, run, evaluation, seed, started, seconds) -> None:
    import a11y_visited

    criteria = evaluation["criteria"]
    head = git("rev-parse", "--short=12", "HEAD")
    dirty = bool(git("status", "--porcelain", "--", "portal", "procedure_catalog.yaml", "catalog"))
    report = {
        "standard": "JIS X 8341-3:2016",
        "target_level": "AA",
        "beyond": "WCAG 2.2 AA",
        "claim": evaluation["claim"],
        "date": started.date().isoformat(),
        "generated_at": started.isoformat(timespec="seconds"),
        "commit": head + ("+変更あり" if dirty else ""),
        "seed": seed,
        "seconds": round(seconds),
        "axe_version": run["axe_version"],
        "scope": "いすみ市オンライン手続（住民向けのページ、キオスク、お手伝いの画面）。"
        "職員用の画面と、外部サービスの代わりのデモ用画面（カード、決済）は対象外。",
        "sample": [
            {
                k: p[k]
                for k in (
                    "label",
                    "url",
                    "source",
                    "kiosk",
                    "language",
                    "modes",
                    "viewport",
                    "javascript",
                    "seconds",
                    "checks_seconds",
                )
            }
            | {
                "axe_violations": len(p["axe"]["violations"]),
                "axe_incomplete": p["axe"]["incomplete"],
                "check_problems": sum(map(len, p["checks"].values())),
            }
            for p in run["pages"]
        ],
        "crawled": run["crawled"],
        "picked": run["picked"],
        "html_checked": run["html_checked"],
        "html_errors": run["html_errors"],
        "visited": run["visited"] | {"summary": a11y_visited.summary_ja(run["visited"])},
        "check_seconds_per_page": {
            k: round(v / max(1, len(run["pages"])), 3) for k, v in run["check_timings"].items()
        },
        "failures": run["failures"]
        + a11y_visited.failures(run["visited"])
        + [
            f"{p['url']}: {check}: {x}"
            for p in run["pages"]
            for check, xs in p["checks"].items()
            for x in xs
        ]
        + [
            f"{p['url']}: axe {v['id']} {v['targets']}"
            for p in run["pages"]
            for v in p["axe"]["violations"]
        ],
        "criteria": criteria,
        "counts": {
            "jis": {
                res: sum(1 for c in criteria if c["jis"] and c["result"] == res)
                for res in (*RESULTS, "要判定")
            },
            "beyond": {
                res: sum(1 for c in criteria if not c["jis"] and c["result"] == res)
                for res in (*RESULTS, "要判定")
            },
        },
        "known_issues": known_issues(criteria),
        "human_judgement": [
            c["id"] for c in criteria if c["basis"] in ("named", "developer", "stale")
        ],
    }
    REPORT_JSON.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    REPORT_MD.write_text(markdown(report))


LANGUAGE_NAMES = {
    "ja": "日本語", "easy": "やさしい日本語", "en": "英語", "zh": "中国語（簡体字）",
    "ko": "韓国語", "vi": "ベトナム語", "pt": "ポルトガル語", "ne": "ネパール語",
}  # fmt: skip
_LANGUAGE_SUFFIX = re.compile(r"（(?:ja|easy|en|zh|ko|vi|pt|ne)）|・ふりがな$|（ふりがな）")


def shown_as(p: dict) -> str:
    """A sampled page's language and modes, as the report writes them: 日本語・ふりがな."""
    language = p.get("language") or "ja"
    return "・".join([LANGUAGE_NAMES.get(language, language), *p.get("modes", [])])


def page_type(label: str) -> str:
    return _LANGUAGE_SUFFIX.sub("", label)


def languages_table(sample: list[dict]) -> list[str]:
    """Which languages and modes each page type was audited in (issue 26: each language,
    furigana, large text, high contrast)."""
    columns = [(code, False) for code in LANGUAGE_NAMES] + [("ja", True), ("easy", True)]
    seen: dict[str, set[tuple[str, bool]]] = {}
    others: dict[str, set[str]] = {}
    for p in sample:
        kind = page_type(p["label"])
        furigana = "ふりがな" in p.get("modes", [])
        seen.setdefault(kind, set()).add((p.get("language") or "ja", furigana))
        extra = [m for m in p.get("modes", []) if m != "ふりがな"]
        if extra:
            others.setdefault(kind, set()).add("・".join(extra))
    head = [LANGUAGE_NAMES[c] + ("・ふりがな" if f else "") for c, f in columns]
    out = [
        "### 言語とモード",
        "",
        "ページの型ごとに、試験した言語とモード（✓）。言語とモードは、ページ自身の表示"
        "（言語メニューで選ばれている言語、ふりがな、文字の大きさと色の設定）から読み取っています。",
        "",
        "| ページの型 | " + " | ".join(head) + " | その他のモード |",
        "| --- |" + " --- |" * (len(columns) + 1),
    ]
    for kind, shown in seen.items():
        marks = ["✓" if column in shown else "" for column in columns]
        other = "、".join(sorted(others.get(kind, ()))) or "—"
        out.append(f"| {kind} | " + " | ".join(marks) + f" | {other} |")
    return out


def markdown(r: dict) -> str:
    basis_text = {
        "named": "人が判定",
        "developer": "開発者による判定（配慮まで）",
        "stale": "要再確認（判定の後に変更あり）",
        "tools": "ツールで確認",
        "none": "判定なし",
    }
    out = [
        "# アクセシビリティ試験結果（JIS X 8341-3:2016）",
        "",
        "このファイルは `make a11y`（scripts/a11y.py）が生成します。手で編集しないでください。",
        "",
        "## 方針",
        "",
        f"- 規格：{r['standard']}、目標とする適合レベル：{r['target_level']}"
        f"（あわせて {r['beyond']} の追加の達成基準も確認します。「JIS外」と記します）",
        f"- 対象範囲：{r['scope']}",
        f"- 対応度（試験結果が裏付けるもの）：**{r['claim']}**",
        f"- 試験日：{r['date']}　コミット：{r['commit']}　ページ選択の seed：{r['seed']}"
        f"　所要時間：{r['seconds']} 秒　axe-core {r['axe_version']}",
        "",
        "対応度の決め方（決定 0065）：JIS の38の達成基準のすべてに、現在のページに対する記名の判定"
        "（またはツールだけで判定できる基準ではツールの合格）があり、すべて適合または適用なしなら「準拠」。"
        "記名の判定がそろっていても、不適合の基準や、判定の後にページが変わった基準があれば「一部準拠」。"
        "「開発者による判定」しかない基準、判定のない基準があれば「配慮」。",
        "",
        "## 試験したページ",
        "",
        f"ページの型と状態のすべてと、デモのポータルをクロールした {r['crawled']} ページから seed "
        f"{r['seed']} で選んだ {len(r['picked'])} ページ。"
        f"Nu Html Checker で {r['html_checked']} ページを検証。",
        "",
        r["visited"]["summary"],
        "",
    ]
    out += languages_table(r["sample"])
    out += [
        "",
        "### ページごとの結果",
        "",
        "| ページ | URL | 言語・モード | 選び方 | axe 違反 | axe 要確認 | ツールの指摘 |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in r["sample"]:
        out.append(
            f"| {p['label']} | `{p['url']}` | {shown_as(p)} | {p['source']} | "
            f"{p['axe_violations']} | {', '.join(p['axe_incomplete']) or '—'} | "
            f"{p['check_problems']} |"
        )
    out += [
        "",
        "## 達成基準チェックリスト",
        "",
        "| 達成基準 | レベル | 区分 | 結果 | 根拠 | 最後の判定 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in r["criteria"]:
        j = c["judgement"]
        last = f"{j['who']} {j['when']}（{j['commit']}）" if j else "—"
        kind = "JIS" if c["jis"] else f"JIS外（WCAG {c['wcag']}）"
        out.append(
            f"| {c['id']} {c['title']} | {c['level']} | {kind} | {c['result']} | "
            f"{basis_text[c['basis']]} | {last} |"
        )
    out += [
        "",
        "## 実装チェックリスト",
        "",
        "「ツール」はツールが確認したもの、「ツール＋人」はツールが見つけ人が判定するもの、"
        "「人」は人だけが判定できるものです。",
        "",
        "| 達成基準 | 種類 | ツール（axe のルール、ツールの確認） | ツールが見つけ人が判定するもの"
        "（axe の要確認） | テスト | 人の判定 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in r["criteria"]:
        tools = (
            ", ".join([f"`{x}`" for x in c["axe_rules"]] + [TOOL_NAMES[t] for t in c["tools"]])
            or "—"
        )
        tests = "<br>".join(f"`{t}`" for t in c["tests"]) or "—"
        j = c["judgement"]
        human = (
            (f"{j['result']}：{j['note']}" + ("（要再確認）" if j["stale"] else "")) if j else "—"
        )
        review = (
            "<br>".join(
                [f"`{rule}`: {', '.join(urls)}" for rule, urls in c["axe_needs_review"].items()]
                + [
                    f"{TOOL_NAMES[t]}: {len(found)}件（下の「ツールが見つけ人が判定するもの」）"
                    for t, found in c.get("tool_findings", {}).items()
                ]
            )
            or "—"
        )
        out.append(f"| {c['id']} | {c['kind']} | {tools} | {review} | {tests} | {human} |")
    findings = [
        (c["id"], t, f)
        for c in r["criteria"]
        for t, fs in c.get("tool_findings", {}).items()
        for f in fs
    ]
    out += ["", "## ツールが見つけ人が判定するもの", ""]
    out += [
        "言語の判定は文字と語から推し量るもので、ツールだけでは決められません。"
        "次の指摘は、人が確認して直すか、適用外（固有名詞など）と判定します。",
        "",
    ]
    out += [f"- {sc} {TOOL_NAMES[t]}：{f}" for sc, t, f in findings] or ["- なし"]
    out += ["", "## 既知の問題", ""]
    out += [f"- {i['id']} {i['title']}：{i['text']}" for i in r["known_issues"]] or ["- なし"]
    out += ["", "## 自動試験の失敗", ""]
    out += [f"- {f}" for f in r["failures"] + r["html_errors"]] or ["- なし"]
    out += [
        "",
        "## 人の判定による達成基準",
        "",
        "次の達成基準の結果は、人の判定によります（判定日は上の表）："
        + "、".join(r["human_judgement"]),
        "",
    ]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    j = sub.add_parser("judge")
    j.add_argument("criteria", nargs="+")
    j.add_argument("--who", required=True)
    j.add_argument("--result", required=True, choices=RESULTS)
    j.add_argument("--note")
    j.add_argument(
        "--files", help="comma-separated file groups of criteria.yaml (default: as before)"
    )
    parser.add_argument("--seed", type=int)
    parser.add_argument("--crawl-picks", type=int, default=6)
    parser.add_argument(
        "--skip-visited",
        action="store_true",
        help="do not audit the pages the last `make test` recorded (build/visited-pages/); the"
        " report says they were not checked",
    )
    parser.add_argument(
        "--only",
        help="a regular expression: run only the sample's visits it finds in their names (no"
        " report written; to try a changed visit)",
    )
    sub.add_parser(
        "translations",
        help="copy accessibility/translations.yaml into the committed report's known issues"
        " (after translating, without running the audit again)",
    )
    args = parser.parse_args()
    if args.command == "judge":
        return judge(args)
    if args.command == "translations":
        report = json.loads(REPORT_JSON.read_text(encoding="utf-8"))
        report["known_issues"] = translated(report["known_issues"])
        REPORT_JSON.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        return 0
    if args.only:
        run = run_sample(0, 0, args.only)
        problems = run["failures"] + run["html_errors"]
        problems += [
            f"{p['url']}: {check}: {x}"
            for p in run["pages"]
            for check, xs in p["checks"].items()
            for x in xs
        ]
        problems += [
            f"{p['url']}: axe {v['id']} {v['targets']}"
            for p in run["pages"]
            for v in p["axe"]["violations"]
        ]
        for line in problems:
            print("FAIL", line)
        print(f"{len(run['pages'])} pages, {len(problems)} failures")
        return 1 if problems else 0
    started = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=9)))
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    doc = load_criteria()
    clock = time.monotonic()
    tests = {t for c in doc["criteria"] for t in c.get("tests", [])}
    found = existing_tests(tests)
    run = run_sample(seed, args.crawl_picks, skip_visited=args.skip_visited)
    evaluation = evaluate(doc, run, found)
    write_report(doc, run, evaluation, seed, started, time.monotonic() - clock)
    report = json.loads(REPORT_JSON.read_text())
    no_evidence = [c["id"] for c in evaluation["criteria"] if not c["evidence"]]
    print(
        f"\nclaim: {report['claim']}; pages: {len(report['sample'])}; seed {seed}; "
        f"{report['seconds']} s; failures: {len(report['failures']) + len(report['html_errors'])}"
    )
    for line in report["failures"] + report["html_errors"]:
        print("FAIL", line)
    for sc in no_evidence:
        print(f"FAIL criterion {sc} has no evidence")
    stale = [c["id"] for c in evaluation["criteria"] if c["judgement"] and c["judgement"]["stale"]]
    if stale:
        print("re-check (judged before the pages changed):", ", ".join(stale))
    return 1 if report["failures"] or report["html_errors"] or no_evidence else 0


if __name__ == "__main__":
    sys.exit(main())
