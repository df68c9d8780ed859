"""Benchmark: the 60-second target (issues 11 and 22), estimated with the keystroke-level model.

    .venv/bin/python bench/klm.py [--runs N] [--network loopback,slow4g] [--journeys a,b]
                                  [--no-docs]

A card-holding resident on a phone (Playwright's Pixel 7, Debian Chromium) is replayed through
EVERY online procedure of the catalog (channel online or both, not ended), from the portal's top
page to 申請を受け付けました, login with the mock My Number card included (for the procedures that
need one, and those where it is optional, as 妊娠の届出: the card holder logs in and gets the
prefill; a signed procedure is also signed with the card). The resident is 岬 花子 (the demo
card "parent"), as in tests/e2e/test_catalog_journeys.py: the catalog's examples are about her
family. A journey id is the procedure id.

When the run covers every procedure on the loopback network, the summary table in
docs/benchmarks.md (between the `klm-table` markers) is regenerated from the results: it is
never typed by hand. `--no-docs` leaves the file alone.
The values are the catalog's example answers (procedure_catalog.yaml), resolved for today.

Every action goes through `Resident`, which performs it on the page and counts the operators of
the keystroke-level model (Card, Moran & Newell) as a person on a phone performs them:

    K 0.35 s  per character typed: the characters of the value, plus one per character deleted
              when a prefilled value must be replaced. A prefilled value (from the card or the
              city's records) that the resident keeps costs nothing; so does a My Number read
              from the card at login (shown masked: kept when its last four digits are the
              example's).
    P 1.1 s   per tap: each button or link, each radio or checkbox, one tap to put the cursor into
              a text field before typing, and two for a drop-down (open the picker, pick). A date
              the page offers as a shortcut button (decision 0076) is one tap and a decision,
              not typed.
    M 1.35 s  per decision: each field typed, option chosen or box ticked, the choice of the
              procedure in the list, the card and PIN (or password) on the card pages, and the
              consent to identify (本人確認する) or to sign (電子署名する), and the start
              button of a procedure that may be filed for someone else
              (ログインしてご本人の申請を始める says whom it is for). Continue buttons
              (次へ進む, 申請を始める, the final submit) and the postal-code lookup cost a tap only.
    R         the measured page time: from the tap (or `goto`) until the next page's load event,
              time.perf_counter() around Playwright's expect_navigation(wait_until="load"),
              redirects (the card service's round trip) included. Navigation Timing of each page
              is stored beside it.

estimate = 0.35 K + 1.1 P + 1.35 M + R. Reading time beyond the M operators, scrolling and
mistakes are not modelled; Japanese is counted per character of the final value (the IME's
kana keystrokes and conversions would add to it). The fee payment after a certificate request is
a separate journey and is not counted.

The login and signature steps of tests/e2e/test_login.py:use_card and test_hoiku.py:
sign_with_card are re-expressed here action by action, with the same locators, so that each one is
counted; the live server (tests/e2e/conftest.py:start_live_server, the Pixel 7 descriptor) and the
locator helpers (tests/e2e/people.py) are imported.

The first journey of each network runs once unmeasured (warm-up of the server and the browser);
then each journey runs --runs times (default 1) in a fresh browser context per run; the operator
counts must be identical in every run, the page time is the median
run's. Network profiles: `loopback` (no throttling: the server's own response times) and
`slow4g` (Lighthouse's mobile profile as DevTools applies it: 562.5 ms request latency,
1474.56 kbit/s down, 675 kbit/s up, CPU slowed 4x). Nothing is asserted; figures are printed and
written to bench/results/klm-<UTC timestamp>.json.

The "fixed part" of a journey is what every procedure costs whatever it asks: opening the portal,
choosing the procedure, logging in, starting (for a procedure that may be filed for someone else,
with the button that says it is for oneself), then on
the confirmation page the declaration, the submit and the signature. The rest is the procedure's
own steps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python bench/klm.py` puts only bench/ on the path
    sys.path.insert(0, str(ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from portal import japanese  # noqa: E402
from portal.catalog import load_catalog, logic  # noqa: E402
from portal.catalog.schema import Field, Procedure, Step  # noqa: E402
from tests.e2e.conftest import CHROMIUM, _device, start_live_server, stop  # noqa: E402
from tests.e2e.people import by_label, group, sample_pdf, shown_as_input  # noqa: E402
from tests.e2e.test_login import PERSONAS  # noqa: E402

K_S, P_S, M_S = 0.35, 1.1, 1.35
TARGET_S = 60.0
RESULTS_DIR = ROOT / "bench" / "results"
CATALOG = load_catalog(ROOT / "procedure_catalog.yaml")

PERSONA = "parent"  # 岬 花子, who holds a card; the journey tests use her too
IDENTITY = {"none": "no login", "login": "login", "signature": "signed"}
# The procedure page's login button: where the login is needed, or optional (issue 22)
LOGIN_BUTTON = {False: "ログインして申請を始める", True: "マイナンバーカードでログインして始める"}


def identity(procedure: Procedure) -> str:
    """How the resident of the benchmark identifies: an optional login is taken."""
    return "login (optional)" if procedure.optional_login else IDENTITY[procedure.identity_level]


def online_procedures(catalog=CATALOG) -> list[Procedure]:
    """Every procedure a resident can file online (the set tests/e2e/test_catalog_journeys.py
    completes), in catalog order."""
    return [p for p in catalog.procedures if p.channel != "counter" and p.ended is None]


def persona_for(procedure: Procedure) -> str:
    """The card holder the example answers are about: the demo persona named in the first
    prefilled person field of the examples (大原 太郎 for the certificates, 中村 キヨ for the
    care insurance procedures; or the name of a text field filled with applicant.name), else
    岬 花子, so that what the card and the records prefill is
    what the examples say and is kept, as that resident would keep it."""
    for f in procedure.fields():
        if (f.type == "person" and f.prefill is not None) or (
            f.prefill is not None and f.prefill.source == "applicant.name"
        ):
            name = procedure.example_answers.get(f.name) or {}
            name = name if isinstance(name, str) else name.get("name")
            for persona_id, persona in PERSONAS.items():
                if persona["name"] == name and persona.get("auth_pin"):
                    return persona_id
            break
    return PERSONA


# journey id (the procedure id) -> (procedure, persona, what it is)
JOURNEYS = {p.id: (p.id, persona_for(p), f"{p.title} ({identity(p)})") for p in online_procedures()}
# The procedures issue 22 names: each must be within the target.
NAMED = (
    "tenshutsu",
    "koseki-shomei",
    "juminhyo-copy",
    "shotoku-shomei",
    "jidoteate-nintei",
    "ninshin-todoke",
)
DOCS = ROOT / "docs" / "benchmarks.md"
TABLE_START = "<!-- klm-table:start (written by bench/klm.py; do not edit by hand) -->"
TABLE_END = "<!-- klm-table:end -->"

# The browser test harness's Chromium flags (tests/e2e/conftest.py:browser_type_launch_args, a
# pytest fixture, so not importable as a value).
LAUNCH_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

# Lighthouse's mobile throttling ("slow 4G", 150 ms RTT, 1.6 Mbit/s) as applied through DevTools:
# request latency 150 x 3.75, throughput x 0.9, and a 4x CPU slowdown.
NETWORKS: dict[str, dict | None] = {
    "loopback": None,
    "slow4g": {
        "latency_ms": 562.5,
        "download_kbps": 1474.56,
        "upload_kbps": 675.0,
        "cpu_slowdown": 4,
    },
}

NAV_TIMING = """() => {
  const e = performance.getEntriesByType('navigation')[0];
  if (!e) return null;
  const r = (x) => Math.round(x * 10) / 10;
  return {type: e.type, redirects: e.redirectCount, ttfb_ms: r(e.responseStart),
          response_end_ms: r(e.responseEnd), dom_content_loaded_ms: r(e.domContentLoadedEventEnd),
          load_ms: r(e.loadEventEnd), transfer_bytes: e.transferSize};
}"""

CONFIRMATION = "申請内容の確認"
DONE = "申請を受け付けました"
CARD_PAGE = "マイナンバーカードで本人確認"


@dataclass
class Op:
    page: str  # the h1 of the page the action is on
    action: str  # open, tap, choose, select, type, keep
    target: str
    chars: int = 0
    taps: int = 0
    mental: int = 0
    page_s: float | None = None  # measured: tap (or goto) until the next page's load event
    landed_on: str | None = None
    nav_timing: dict | None = None
    phase: str = "fixed"  # fixed (open, find, log in, start, confirm, sign) or steps

    @property
    def seconds(self) -> float:
        return self.chars * K_S + self.taps * P_S + self.mental * M_S + (self.page_s or 0.0)


@dataclass
class Resident:
    """The page as a person on a phone uses it. Each method performs one action and records its
    operators; nothing is done to the page except through these methods."""

    page: object
    ops: list[Op] = field(default_factory=list)
    phase: str = "fixed"

    def heading(self) -> str:
        return self.page.get_by_role("heading", level=1).inner_text().strip()

    def _record(self, op: Op) -> None:
        op.phase = self.phase
        self.ops.append(op)

    def _after_navigation(self, op: Op, started: float, expect_heading: str | None) -> None:
        op.page_s = time.perf_counter() - started
        op.nav_timing = self.page.evaluate(NAV_TIMING)
        errors = self.page.locator("[data-error-summary]")
        if errors.count():
            raise RuntimeError(f"{op.target}: the page shows errors: {errors.inner_text()}")
        if expect_heading is not None:
            expect(self.page.get_by_role("heading", level=1)).to_have_text(expect_heading)
        op.landed_on = self.heading()
        self._record(op)

    def open(self, path: str, expect_heading: str) -> None:
        """Open a page (the resident's bookmark or search result): page time only."""
        op = Op(page="-", action="open", target=path)
        started = time.perf_counter()
        self.page.goto(path, wait_until="load")
        self._after_navigation(op, started, expect_heading)

    def tap(self, locator, target: str, expect_heading: str | None = None, decide=False) -> None:
        """Tap a button or link that loads a page: P (+ M when it is a decision) + page time."""
        op = Op(page=self.heading(), action="tap", target=target, taps=1, mental=int(decide))
        started = time.perf_counter()
        with self.page.expect_navigation(wait_until="load"):
            locator.tap()
        self._after_navigation(op, started, expect_heading)

    def choose(self, locator, target: str, checked: bool = True) -> None:
        """A radio button or checkbox: M + P, or nothing when it is already as wanted."""
        if locator.is_checked() == checked:
            # a box already ticked (prefilled) is kept; one left empty is no action at all
            if checked:
                self._record(Op(page=self.heading(), action="keep", target=target))
            return
        locator.set_checked(checked)
        self._record(Op(page=self.heading(), action="choose", target=target, taps=1, mental=1))

    def select(self, locator, value: str, label: str, target: str) -> None:
        """A drop-down: M + 2 P (open the picker, pick), or nothing when already chosen."""
        if locator.input_value() == value:
            self._record(Op(page=self.heading(), action="keep", target=target))
            return
        locator.select_option(label=label)
        self._record(Op(page=self.heading(), action="select", target=target, taps=2, mental=1))

    def shortcut(self, button, field, target: str) -> None:
        """A date shortcut (decision 0076): one tap and a decision fill the field in place."""
        wanted = button.get_attribute("data-fill")
        button.tap()
        expect(field).to_have_value(wanted)
        self._record(Op(page=self.heading(), action="shortcut", target=target, taps=1, mental=1))

    def attach(self, locator, target: str) -> None:
        """A required upload: tap the field, tap the photo in the phone's picker (2 P + M)."""
        locator.set_input_files(_sample_file())
        self._record(Op(page=self.heading(), action="attach", target=target, taps=2, mental=1))

    def type(self, locator, text: str, target: str, same=None) -> None:
        """A text field: M + P (cursor into the field) + K per character typed and deleted; a
        prefilled value equal to `text` (by `same`) is kept and costs nothing."""
        current = locator.input_value()
        equal = same or (lambda a, b: a.strip() == b.strip())
        if current and equal(current, text):
            self._record(Op(page=self.heading(), action="keep", target=target))
            return
        locator.fill(text)
        chars = len(text) + len(current)
        self._record(
            Op(page=self.heading(), action="type", target=target, chars=chars, taps=1, mental=1)
        )


# --------------------------------------------------------------------------------------------
# Answering the portal's pages from the catalog's example answers

_SAMPLE: list[Path] = []


def _sample_file() -> Path:
    """A one-page PDF standing for the photo a resident picks (tests/e2e/people.py:sample_pdf)."""
    if not _SAMPLE:
        _SAMPLE.append(sample_pdf(Path(tempfile.mkdtemp(prefix="klm-upload-")), "書類.pdf"))
    return _SAMPLE[0]


def _same_date(a: str, b: str) -> bool:
    try:
        # A month and a day alone mean the nearest such day, as the portal reads them.
        today = tokyo_today()
        return japanese.parse_date(a, near=today) == japanese.parse_date(b, near=today)
    except japanese.InputError:
        return False


def _same_digits(a: str, b: str) -> bool:
    return re.sub(r"\D", "", a) == re.sub(r"\D", "", b)


ADDRESS_PARTS = (
    ("postal_code", "郵便番号"),
    ("prefecture", "都道府県"),
    ("city", "市区町村"),
    ("town", "町名"),
    ("block", "番地・号"),
    ("building", "建物名・部屋番号"),
)


def answer_field(r: Resident, scope, f: Field, value, prefix: str = "") -> None:
    name = f"{prefix}{f.label}"
    kind = f.type
    if kind == "file":
        if f.required:  # an optional upload is left out, as most residents would
            r.attach(by_label(scope, f.label), name)
        return
    if value is None:
        return
    if kind in {"radio", "yesno"}:
        choice = {True: "yes", False: "no"}.get(value, value) if kind == "yesno" else value
        label = next(o.label for o in f.choices() if o.value == choice)
        radio = group(scope, f.label).get_by_role("radio", name=label, exact=True)
        r.choose(radio, f"{name}: {label}")
    elif kind == "checkboxes":
        for option in f.options:
            box = group(scope, f.label).get_by_role("checkbox", name=option.label, exact=True)
            r.choose(box, f"{name}: {option.label}", checked=option.value in value)
    elif kind == "select":
        label = next(o.label for o in f.options if o.value == value)
        r.select(by_label(scope, f.label), value, label, f"{name}: {label}")
    elif kind == "declaration":
        r.choose(scope.get_by_role("checkbox", name=f.label), name, checked=bool(value))
    elif kind == "date":
        day = dt.date.fromisoformat(value)
        text = japanese.format_wareki(day)  # as the hints show it (and the shortcuts fill it)
        field = by_label(scope, f.label)
        shortcut = scope.locator(
            f"button[data-fill-target='{field.get_attribute('id')}'][data-fill='{text}']"
        )
        if not _same_date(field.input_value(), text) and shortcut.count():
            r.shortcut(shortcut.first, field, f"{name}: {shortcut.first.inner_text()}")
        else:
            # Where the year may be left out, the hint shows the month and day (decision 0088).
            typed = f"{day.month}月{day.day}日" if f.year_optional else text
            r.type(field, typed, name, same=_same_date)
    elif kind == "person":
        box = group(scope, f.label)
        r.type(by_label(box, "氏名"), value["name"], f"{name} 氏名")
        r.type(by_label(box, "フリガナ"), value["kana"], f"{name} フリガナ")
        birth = japanese.format_wareki(dt.date.fromisoformat(value["birth_date"]))
        r.type(by_label(box, "生年月日"), birth, f"{name} 生年月日", same=_same_date)
    elif kind == "address":
        answer_address(r, scope, f, value, name)
    elif kind == "group":
        answer_group(r, f, value)
    elif kind == "bank_account":
        answer_bank_account(r, scope, f, value, name)
    elif kind == "tel":
        r.type(by_label(scope, f.label), str(value), name, same=_same_digits)
    elif kind == "mynumber":
        # A number already filled (from the card at login) is shown masked beside an empty
        # input: kept when its last four digits are the example's, else typed.
        field = by_label(scope, f.label)
        shown = field.evaluate(DESCRIPTION)
        if f"入力済みです（●●●● ●●●● {str(value)[-4:]}）" in shown:
            r._record(Op(page=r.heading(), action="keep", target=name))
        else:
            r.type(field, str(value), name)
    else:
        r.type(by_label(scope, f.label), str(value), name)


def answer_address(r: Resident, scope, f: Field, value: dict, name: str) -> None:
    """Postal code (seven digits fill prefecture, city and town by the page's script), then
    郵便番号から住所を入力する only when the rest is still not right, then whatever is still
    missing."""
    box = group(scope, f.label)
    wanted = {part: value.get(part, "") for part, _ in ADDRESS_PARTS}
    postal = by_label(box, "郵便番号")
    r.type(postal, wanted["postal_code"], f"{name} 郵便番号", same=_same_digits)
    lookup_fills = [by_label(box, label) for part, label in ADDRESS_PARTS[1:4]]
    try:  # seven digits typed: the page's script fills the rest while the resident moves on
        expect(lookup_fills[0]).to_have_value(wanted["prefecture"], timeout=3_000)
        expect(lookup_fills[2]).to_have_value(wanted["town"], timeout=1_000)
    except AssertionError:
        pass  # not filled (no script, or another town): the button below
    if any(
        loc.input_value() != wanted[part]
        for loc, (part, _) in zip(lookup_fills, ADDRESS_PARTS[1:4], strict=True)
    ):
        heading = r.heading()
        r.tap(
            box.get_by_role("button", name="郵便番号から住所を入力する"),
            f"{name} 郵便番号から住所を入力する",
            expect_heading=heading,
        )
        box = group(r.page, f.label)
    for part, label in ADDRESS_PARTS[1:]:
        if wanted[part] or by_label(box, label).input_value():
            r.type(by_label(box, label), wanted[part], f"{name} {label}")


def answer_bank_account(r: Resident, scope, f: Field, value: dict, name: str) -> None:
    box = group(scope, f.label)
    kind = group(box, "金融機関の種類").get_by_role("radio", name="銀行・信用金庫・農協など")
    r.choose(kind, f"{name} 金融機関の種類")
    r.type(by_label(box, "金融機関コード"), value["bank_code"], f"{name} 金融機関コード")
    r.type(by_label(box, "支店コード"), value["branch_code"], f"{name} 支店コード")
    types = {"ordinary": "普通", "current": "当座", "savings": "貯蓄"}
    account = group(box, "預金の種類").get_by_role("radio", name=types[value["account_type"]])
    r.choose(account, f"{name} 預金の種類")
    r.type(by_label(box, "口座番号"), value["account_number"], f"{name} 口座番号")
    r.type(by_label(box, "口座名義（カナ）"), value["holder_kana"], f"{name} 口座名義（カナ）")


def answer_group(r: Resident, f: Field, items: list[dict]) -> None:
    """Repeated items (the household that moves): the ones the portal shows from the records are
    checked against the answers; extra ones are removed, missing ones added."""
    label = f.item_label
    shown = 0
    while group(group(r.page, f.label), f"{label}{shown + 1}").count():
        shown += 1
    while shown > len(items):
        r.tap(
            r.page.get_by_role("button", name=f"{label}{shown}を削除する"),
            f"{label}{shown}を削除する",
            decide=True,
        )
        shown -= 1
    for index, item in enumerate(items):
        if index >= shown:
            r.tap(
                group(r.page, f.label).get_by_role("button", name=f"{label}を追加する"),
                f"{label}を追加する",
            )
            shown += 1
        item_box = group(group(r.page, f.label), f"{label}{index + 1}")
        for sub in f.fields:
            answer_field(r, item_box, sub, item.get(sub.name), prefix=f"{label}{index + 1} ")


def answer_step(r: Resident, step: Step, answers: dict) -> None:
    for f in step.fields:
        if (f.name in answers or f.type == "file") and shown_as_input(r.page, f):
            answer_field(r, r.page, f, answers.get(f.name))


# --------------------------------------------------------------------------------------------
# Journeys


def card_page(r: Resident, persona_id: str, signing: bool, then: str | None) -> None:
    """The mock card service: choose the card (stands for holding it to the phone), enter the PIN
    or the signature password, and consent."""
    persona = PERSONAS[persona_id]
    card = group(r.page, "使うカード（デモ用）").get_by_role("radio", name=persona["card_label"])
    r.choose(card, "使うカード（デモ用）")
    if signing:
        label, secret, button = (
            "署名用電子証明書のパスワード（英数字6〜16文字）",
            persona["sign_password"],
            "電子署名する",
        )
    else:
        label, secret, button = (
            "利用者証明用電子証明書の暗証番号（数字4桁）",
            persona["auth_pin"],
            "本人確認する",
        )
    r.type(by_label(r.page, label), secret, label)
    r.tap(r.page.get_by_role("button", name=button), button, expect_heading=then, decide=True)


# The text an input's aria-describedby names (its hint and error), as a screen reader reads it.
DESCRIPTION = """(el) => (el.getAttribute('aria-describedby') || '').split(/\\s+/)
  .map((id) => (document.getElementById(id) || {}).textContent || '').join(' ')"""

REMEMBER = "入力した電話番号とメールアドレスを、次の申請でも使う"


def journey(
    r: Resident, procedure: Procedure, persona_id: str, today: dt.date, remember: bool = False
) -> None:
    answers = logic.resolve_examples(procedure.example_answers, today)
    r.open("/", "いすみ市のオンライン手続")
    r.tap(
        r.page.get_by_role("link", name=procedure.title, exact=True),
        f"手続の一覧: {procedure.title}",
        expect_heading=procedure.title,
        decide=True,
    )
    if procedure.identity_level != "none" and procedure.on_behalf:
        # One button says whom it is for (a decision) and starts: no "who" page.
        r.tap(
            r.page.get_by_role("button", name="ログインしてご本人の申請を始める"),
            "ログインしてご本人の申請を始める",
            expect_heading=CARD_PAGE,
            decide=True,
        )
        card_page(r, persona_id, signing=False, then=None)  # then the first page at once
    elif procedure.identity_level != "none" or procedure.optional_login:
        # A card holder logs in where the login is optional too: the card and records prefill.
        button = LOGIN_BUTTON[procedure.optional_login]
        r.tap(r.page.get_by_role("button", name=button), button, expect_heading=CARD_PAGE)
        card_page(r, persona_id, signing=False, then=None)  # then the first page at once
    else:
        r.tap(r.page.get_by_role("button", name="申請を始める"), "申請を始める")
    titles = {step.title: step for step in procedure.steps}
    r.phase = "steps"
    for _ in range(len(procedure.steps) + 1):
        heading = r.heading()
        if heading == CONFIRMATION:
            break
        if heading not in titles:
            raise RuntimeError(f"{procedure.id}: unexpected page {heading!r}")
        answer_step(r, titles[heading], answers)
        r.tap(r.page.get_by_role("button", name="次へ進む"), "次へ進む")
    expect(r.page.get_by_role("heading", level=1)).to_have_text(CONFIRMATION)
    r.phase = "fixed"
    if procedure.declaration:
        r.choose(r.page.get_by_role("checkbox", name=procedure.declaration), "確認事項（宣言）")
    box = r.page.get_by_role("checkbox", name=REMEMBER)
    if remember and box.count():  # the resident's consent: their next applications are filled
        r.choose(box, REMEMBER)
    if procedure.identity_level == "signature":
        r.tap(
            r.page.get_by_role("button", name="署名して申請する"),
            "署名して申請する",
            expect_heading=CARD_PAGE,
        )
        card_page(r, persona_id, signing=True, then=DONE)
    else:
        r.tap(
            r.page.get_by_role("button", name="この内容で申請する"),
            "この内容で申請する",
            expect_heading=DONE,
        )


# --------------------------------------------------------------------------------------------
# Running and reporting


def totals(ops: list[Op]) -> dict:
    chars = sum(o.chars for o in ops)
    taps = sum(o.taps for o in ops)
    mental = sum(o.mental for o in ops)
    page_s = sum(o.page_s or 0.0 for o in ops)
    pages = sum(1 for o in ops if o.page_s is not None)
    parts = {"K": chars * K_S, "P": taps * P_S, "M": mental * M_S, "R": page_s}
    return {
        "chars": chars,
        "taps": taps,
        "mental": mental,
        "page_loads": pages,
        "page_s": page_s,
        "seconds": parts,
        "estimate_s": sum(parts.values()),
        "kept_prefilled": sum(1 for o in ops if o.action == "keep"),
    }


def dominant(ops: list[Op]) -> str:
    """What dominates the procedure's own steps: the costliest step page and, on it, the costliest
    action (the fixed part is reported in a column of its own)."""
    pages = [row for row in by_page([o for o in ops if o.phase == "steps"])]
    if not pages:
        return "-"
    top = max(pages, key=lambda row: row["s"])
    on_page = [o for o in ops if o.phase == "steps" and o.page == top["page"]]
    item = max(on_page, key=lambda o: o.seconds - (o.page_s or 0.0))
    what = f"{item.target} {item.seconds - (item.page_s or 0.0):.1f} s"
    return f"{top['page']} {top['s']:.1f} s (largest: {what})"


def table_row(procedure: Procedure, ops: list[Op]) -> dict:
    t = totals(ops)
    fixed = totals([o for o in ops if o.phase == "fixed"])
    return {
        "resident": PERSONAS[JOURNEYS[procedure.id][1]]["name"],
        "procedure": procedure.id,
        "title": procedure.title,
        "identity": identity(procedure),
        "pages": t["page_loads"],
        "chars": t["chars"],
        "taps": t["taps"],
        "mental": t["mental"],
        "page_s": t["page_s"],
        "estimate_s": t["estimate_s"],
        "fixed_s": fixed["estimate_s"],
        "steps_s": t["estimate_s"] - fixed["estimate_s"],
        "dominant": dominant(ops),
        "note": procedure.klm_note or "",
        # The login's own cost (the card page before the steps) and the values kept as they
        # were filled (card, records, remembered contact, postal-code lookup): what signing
        # once, without the login, would save and lose (decision 0062).
        "login_s": login_seconds(ops),
        "kept": t["kept_prefilled"],
    }


def login_seconds(ops: list[Op]) -> float:
    """The seconds spent on the card page of the login (not the signature's)."""
    first_step = next((i for i, o in enumerate(ops) if o.phase == "steps"), len(ops))
    return sum(o.seconds for o in ops[:first_step] if o.page == CARD_PAGE)


def render_table(rows: list[dict], started_at: str, machine: dict) -> str:
    """The docs/benchmarks.md table (loopback figures), with its summary lines."""
    estimates = [row["estimate_s"] for row in rows]
    within = sum(1 for e in estimates if e <= TARGET_S)
    by_id = {row["procedure"]: row for row in rows}
    named = ", ".join(
        f"{by_id[i]['title']} {by_id[i]['estimate_s']:.1f} s" for i in NAMED if i in by_id
    )
    lines = [
        TABLE_START,
        "",
        f"Run of {started_at[:16].replace('T', ' ')} UTC, loopback network, Pixel 7, the demo "
        "card holder the examples are about (column resident), returning: an earlier "
        "application of theirs asked for their phone and e-mail to be remembered, so they are "
        "filled (a first application types the phone: about 8 s more); where a procedure "
        "repeats an earlier application of the same kind (a 現況届, the change of a 申出), "
        "that one was filed before too, and what it answered is shown (decision 0077); "
        f"{machine['nproc']} CPUs, load average "
        f"{machine['load_average_at_start'][0]:.2f} at the start.",
        "",
        f"- **{within} of {len(rows)} online procedures within {TARGET_S:.0f} s**; median "
        f"estimate **{statistics.median(estimates):.1f} s**; fixed part (open, find, log in, "
        f"start, confirm, sign) median {statistics.median(r['fixed_s'] for r in rows):.1f} s.",
        f"- The six the issue names: {named}.",
        sign_once_line(rows),
        "",
        "| procedure | resident | identity | pages | characters | taps | decisions | page time s "
        "| estimate s | 60 s? | fixed part s | own steps s | what dominates | why not 60 s |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: "
        "| --- | --- |",
    ]
    for row in rows:
        ok = "yes" if row["estimate_s"] <= TARGET_S else "**no**"
        note = row["note"] if row["estimate_s"] > TARGET_S else ""
        lines.append(
            f"| {row['title']} (`{row['procedure']}`) | {row['resident']} | {row['identity']} "
            f"| {row['pages']} "
            f"| {row['chars']} | {row['taps']} | {row['mental']} | {row['page_s']:.2f} "
            f"| {row['estimate_s']:.1f} | {ok} | {row['fixed_s']:.1f} | {row['steps_s']:.1f} "
            f"| {row['dominant']} | {note} |"
        )
    lines += ["", TABLE_END]
    return "\n".join(lines)


def sign_once_line(rows: list[dict]) -> str:
    """Why no signed procedure signs once (without the login): what the login costs against
    what it fills, from the rows (docs/decisions/0062-sign-once-and-the-card.md)."""
    signed = [r for r in rows if r["identity"] == IDENTITY["signature"] and "login_s" in r]
    if not signed:
        return "- Sign once: no signed procedure in this run."
    kept = [r["kept"] for r in signed]
    return (
        f"- Sign once (no login, the signature at the end identifies): offered for none of the "
        f"{len(signed)} signed procedures; the login costs "
        f"{statistics.median(r['login_s'] for r in signed):.1f} s (median) and each keeps "
        f"{min(kept)}–{max(kept)} values already filled (most by the login: card, records, "
        "remembered contact), typed without it (decision 0062)."
    )


def write_docs(table: str, path: Path = DOCS) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    path.write_text(text[:start] + table + text[end:], encoding="utf-8")


def signature(ops: list[Op]) -> list[tuple]:
    return [(o.page, o.action, o.target, o.chars, o.taps, o.mental) for o in ops]


def new_context(browser, playwright, base_url: str, network: dict | None):
    context = browser.new_context(
        **_device(playwright, "Pixel 7"),
        base_url=base_url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
    )
    context.set_default_timeout(30_000 if network else 10_000)
    page = context.new_page()
    if network:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": network["latency_ms"],
                "downloadThroughput": network["download_kbps"] * 1000 / 8,
                "uploadThroughput": network["upload_kbps"] * 1000 / 8,
            },
        )
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": network["cpu_slowdown"]})
    return context, page


def returning_residents(journeys: list[str]) -> list[str]:
    """For each resident of these journeys, the first journey in which they sign in and give
    their own phone: the earlier application that remembers their contact."""
    chosen: dict[str, str] = {}
    for journey_id in journeys:
        procedure = CATALOG.procedure(JOURNEYS[journey_id][0])
        remembers = any(
            f.prefill is not None and f.prefill.source == "applicant.phone"
            for f in procedure.fields()
        )
        if (procedure.identity_level != "none" or procedure.optional_login) and remembers:
            chosen.setdefault(JOURNEYS[journey_id][1], journey_id)
    return list(chosen.values()) or journeys[:1]


def tokyo_today() -> dt.date:
    """The resident's today (Asia/Tokyo), as the server resolves dates: the machine's own date
    is a day behind between 15:00 and 24:00 UTC."""
    return dt.datetime.now(ZoneInfo("Asia/Tokyo")).date()


def earlier_applications(journeys: list[str]) -> list[str]:
    """The earlier applications of the same kind these journeys' residents have filed (a 現況届
    repeats last year's; a change of a 申出 starts from the 申出): for each procedure with a
    field filled from `applicant.earlier`, the first procedure that field names (by default its
    own), filed once by the same resident before the measured runs (decision 0077)."""
    chosen: list[str] = []
    for journey_id in journeys:
        procedure = CATALOG.procedure(JOURNEYS[journey_id][0])
        for f in procedure.fields():
            if f.prefill is None or f.prefill.source != "applicant.earlier":
                continue
            earlier = (f.prefill.procedures or [procedure.id])[0]
            same_resident = earlier in JOURNEYS and JOURNEYS[earlier][1] == JOURNEYS[journey_id][1]
            if same_resident and earlier not in chosen:
                chosen.append(earlier)
    return chosen


def run_journey(browser, playwright, base_url, journey_id, network, remember=False) -> list[Op]:
    procedure_id, persona, _ = JOURNEYS[journey_id]
    context, page = new_context(browser, playwright, base_url, network)
    try:
        r = Resident(page)
        journey(r, CATALOG.procedure(procedure_id), persona, tokyo_today(), remember)
        return r.ops
    finally:
        context.close()


def by_page(ops: list[Op]) -> list[dict]:
    """Seconds per page, in journey order (consecutive actions on the same page; a page's R is
    the load time of the page its last tap opens)."""
    rows: list[dict] = []
    for o in ops:
        if not rows or rows[-1]["page"] != o.page:
            rows.append({"page": o.page, "K": 0, "P": 0, "M": 0, "R": 0.0, "s": 0.0})
        row = rows[-1]
        row["K"] += o.chars
        row["P"] += o.taps
        row["M"] += o.mental
        row["R"] += o.page_s or 0.0
        row["s"] += o.seconds
    return rows


def _pad(text: str, width: int) -> str:
    """Left-justify for a terminal: East Asian wide characters take two columns."""
    out, used = "", 0
    for char in text:
        w = 2 if unicodedata.east_asian_width(char) in "WF" else 1
        if used + w > width:
            break
        out, used = out + char, used + w
    return out + " " * (width - used)


def print_journey(journey_id: str, network: str, ops: list[Op], page_runs: list[float]) -> dict:
    t = totals(ops)
    s = t["seconds"]
    title = JOURNEYS[journey_id][2]
    verdict = "meets" if t["estimate_s"] <= TARGET_S else "misses"
    print(f"\n{journey_id} — {title} — network {network}")
    print(
        f"  operators: K {t['chars']} characters, P {t['taps']} taps, M {t['mental']} decisions; "
        f"{t['page_loads']} page loads, R {t['page_s']:.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in page_runs)}); {t['kept_prefilled']} values "
        "already filled kept (prefill or postal-code lookup)"
    )
    print(
        f"  estimate {t['estimate_s']:.1f} s = K {s['K']:.2f} + P {s['P']:.2f} + M {s['M']:.2f} "
        f"+ R {s['R']:.2f}  ({verdict} the {TARGET_S:.0f} s target)"
    )
    print(f"  {'page':<34} {'K':>4} {'P':>3} {'M':>3} {'R s':>6} {'total s':>8}")
    for row in by_page(ops):
        print(
            f"  {_pad(row['page'], 34)} {row['K']:>4.0f} {row['P']:>3.0f} {row['M']:>3.0f} "
            f"{row['R']:>6.2f} {row['s']:>8.2f}"
        )
    return t


def machine_info() -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("flask", "gunicorn", "playwright"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()),
        "packages": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="measured runs per journey")
    parser.add_argument(
        "--no-docs", action="store_true", help="do not rewrite the table in docs/benchmarks.md"
    )
    parser.add_argument(
        "--network", default="loopback,slow4g", help=f"comma-separated: {', '.join(NETWORKS)}"
    )
    parser.add_argument(
        "--journeys", default=",".join(JOURNEYS), help=f"comma-separated: {', '.join(JOURNEYS)}"
    )
    args = parser.parse_args(argv)
    networks = [n for n in args.network.split(",") if n]
    journeys = [j for j in args.journeys.split(",") if j]
    unknown = [n for n in networks if n not in NETWORKS] + [
        j for j in journeys if j not in JOURNEYS
    ]
    if unknown or args.runs < 1:
        parser.error(f"unknown: {', '.join(unknown)}" if unknown else "--runs must be >= 1")

    started_at = dt.datetime.now(dt.UTC)
    machine = machine_info()
    print(
        f"KLM: K {K_S} s/character, P {P_S} s/tap, M {M_S} s/decision, R measured; "
        f"target {TARGET_S:.0f} s; {args.runs} runs per journey (median page time), Pixel 7, "
        f"{machine['nproc']} CPUs, load {machine['load_average_at_start'][0]:.2f}"
    )
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="klm-") as workdir:
        # One resident after another from one address, faster than a person: the save and
        # submit limits (60 and 20 a minute) would stop the run; they are not what it measures.
        limits = {
            "PORTAL_RATELIMIT_SAVE": "10000 per minute",
            "PORTAL_RATELIMIT_SUBMIT": "10000 per minute",
        }
        server, process = start_live_server(Path(workdir), limits)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                for network in networks:
                    profile = NETWORKS[network]
                    results[network] = {}
                    # Warm-up of the server and the browser, unmeasured: for each resident, one
                    # earlier application in which they ask for their phone and e-mail to be
                    # remembered (the box on the confirmation page), as a returning resident has.
                    for journey_id in returning_residents(journeys):
                        run_journey(
                            browser, playwright, server.url, journey_id, profile, remember=True
                        )
                    # and the earlier application of the same kind where a procedure repeats one
                    for journey_id in earlier_applications(journeys):
                        run_journey(browser, playwright, server.url, journey_id, profile)
                    for journey_id in journeys:
                        runs = [
                            run_journey(browser, playwright, server.url, journey_id, profile)
                            for _ in range(args.runs)
                        ]
                        if any(signature(ops) != signature(runs[0]) for ops in runs):
                            raise RuntimeError(f"{journey_id}: operator counts differ between runs")
                        page_runs = [totals(ops)["page_s"] for ops in runs]
                        median = sorted(range(len(runs)), key=lambda i: page_runs[i])[
                            len(runs) // 2
                        ]
                        ops = runs[median]
                        t = print_journey(journey_id, network, ops, page_runs)
                        results[network][journey_id] = {
                            "row": table_row(CATALOG.procedure(journey_id), ops),
                            "procedure": JOURNEYS[journey_id][0],
                            "persona": JOURNEYS[journey_id][1],
                            "totals": t,
                            "meets_target": t["estimate_s"] <= TARGET_S,
                            "page_s_runs": page_runs,
                            "page_s_median": statistics.median(page_runs),
                            "by_page": by_page(ops),
                            "operations": [asdict(o) for o in ops],
                        }
                browser.close()
        finally:
            stop(process)

    print("\nsummary (estimate s; target 60 s)")
    print(f"  {'journey':<16}" + "".join(f" {n:>10}" for n in networks))
    for journey_id in journeys:
        cells = "".join(
            f" {results[n][journey_id]['totals']['estimate_s']:>10.1f}" for n in networks
        )
        print(f"  {journey_id:<16}{cells}")

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"klm-{started_at.strftime('%Y%m%dT%H%M%SZ')}.json"
    machine["load_average_at_end"] = list(os.getloadavg())
    payload = {
        "benchmark": "klm",
        "started_at": started_at.isoformat(),
        "model": {"K_s": K_S, "P_s": P_S, "M_s": M_S, "target_s": TARGET_S},
        "settings": {"runs": args.runs, "networks": {n: NETWORKS[n] for n in networks}},
        "device": "Pixel 7",
        "machine": machine,
        "results": results,
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten: {path.relative_to(ROOT)}")
    if "loopback" in results and set(journeys) == set(JOURNEYS) and not args.no_docs:
        rows = [results["loopback"][j]["row"] for j in JOURNEYS]
        write_docs(render_table(rows, payload["started_at"], machine))
        print(f"table rewritten: {DOCS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
