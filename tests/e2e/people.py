"""Acting like a person: find fields by their labels and roles, fill a step from answers.

`fill_step()` is catalog-driven: it reads the step's fields from the catalog and uses only what a
person sees (label text, legends, option labels, button names), so any procedure described in
YAML can be completed by the browser tests without procedure-specific code.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from portal import japanese
from portal.catalog.schema import Field, Step

FIXTURES = Path(__file__).parent / "files"


def _chrome_translations() -> dict[str, set[str]]:
    """Every page-chrome string (a Japanese msgid) and its translations in every .po file: the
    sub-labels a field type writes (氏名, フリガナ, 郵便番号 ...) read as the page's language reads
    them, and the 必須/任意 tag after a label."""
    from babel.messages.pofile import read_po

    from portal.i18n import SOURCE

    found: dict[str, set[str]] = {}
    for po_path in SOURCE.glob("*/LC_MESSAGES/*.po"):
        with po_path.open("rb") as po_file:
            for message in read_po(po_file):
                if isinstance(message.id, str) and message.string and not message.fuzzy:
                    found.setdefault(message.id, set()).add(str(message.string))
    return found


_CHROME = _chrome_translations()
_TAGS = "|".join(
    map(
        re.escape,
        sorted({"必須", "任意", *_CHROME["必須"], *_CHROME["任意"]}, key=len, reverse=True),
    )
)


def _name(label: str) -> re.Pattern[str]:
    """A label as the page shows it in any language: as written (a catalog text comes already
    localized) or as a chrome string's translation, then its 必須/任意 tag."""
    words = sorted({label, *_CHROME.get(label, ())}, key=len, reverse=True)
    # "/" escaped too: Playwright writes the pattern as a JavaScript /.../ literal.
    escaped = "|".join(re.escape(word).replace("/", "\\/") for word in words)
    return re.compile(rf"^(?:{escaped})\s*({_TAGS})?$")


def by_label(scope, label: str):
    """The input whose accessible name is the label (plus its 必須/任意 tag)."""
    return scope.get_by_label(_name(label))


def group(scope, label: str):
    """A fieldset by its legend."""
    return scope.get_by_role("group", name=_name(label))


def sample_pdf(tmp_dir: Path, name: str = "証明書.pdf") -> Path:
    path = tmp_dir / name
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )
    return path


def _wareki(iso: str) -> str:
    return japanese.format_wareki(dt.date.fromisoformat(iso))


def fill_field(page, scope, field: Field, value, files_dir: Path | None = None) -> None:
    kind = field.type
    if kind == "file":
        if files_dir is not None and field.required:
            by_label(scope, field.label).set_input_files(sample_pdf(files_dir))
        return
    if value is None:
        return
    if kind in {"radio", "yesno"}:
        choice = {True: "yes", False: "no"}.get(value, value) if kind == "yesno" else value
        label = next(o.label for o in field.choices() if o.value == choice)
        group(scope, field.label).get_by_role("radio", name=label, exact=True).check()
    elif kind == "checkboxes":
        for option in field.options:
            box = group(scope, field.label).get_by_role("checkbox", name=option.label, exact=True)
            box.set_checked(option.value in value)
    elif kind == "select":
        label = next(o.label for o in field.options if o.value == value)
        by_label(scope, field.label).select_option(label=label)
    elif kind == "declaration":
        scope.get_by_role("checkbox", name=field.label).set_checked(bool(value))
    elif kind == "date":
        by_label(scope, field.label).fill(_wareki(value))  # typed as 和暦, as many residents do
    elif kind == "person":
        box = group(scope, field.label)
        by_label(box, "氏名").fill(value["name"])
        by_label(box, "フリガナ").fill(value["kana"])
        by_label(box, "生年月日").fill(_wareki(value["birth_date"]))
    elif kind == "address":
        box = group(scope, field.label)
        for part, label in (
            ("postal_code", "郵便番号"),
            ("prefecture", "都道府県"),
            ("city", "市区町村"),
            ("town", "町名"),
            ("block", "番地・号"),
            ("building", "建物名・部屋番号"),
        ):
            by_label(box, label).fill(value.get(part, ""))
    elif kind == "bank_account":
        box = group(scope, field.label)
        group(box, "金融機関の種類").get_by_role("radio", name="銀行・信用金庫・農協など").check()
        by_label(box, "金融機関コード").fill(value["bank_code"])
        by_label(box, "支店コード").fill(value["branch_code"])
        types = {"ordinary": "普通", "current": "当座", "savings": "貯蓄"}
        group(box, "預金の種類").get_by_role("radio", name=types[value["account_type"]]).check()
        by_label(box, "口座番号").fill(value["account_number"])
        by_label(box, "口座名義（カナ）").fill(value["holder_kana"])
    elif kind == "group":
        fill_group(
            page,
            field,
            value,
            lambda item_box, sub, answer: fill_field(page, item_box, sub, answer, files_dir),
        )
    else:
        by_label(scope, field.label).fill(str(value))


def fill_group(page, field: Field, items: list, fill_item) -> None:
    """Make a group show exactly len(items) items and fill each sub-field with
    fill_item(item_box, sub_field, answer). Items already on the page (prefilled from the
    records, say) are reused; missing ones are added, extra ones removed from the end."""
    label = f"{field.item_label}"
    while group(group(page, field.label), f"{label}{len(items) + 1}").count():
        shown = len(items) + 1
        while group(group(page, field.label), f"{label}{shown + 1}").count():
            shown += 1
        page.get_by_role("button", name=f"{label}{shown}を削除する").click()
    for index, item in enumerate(items):
        box = group(page, field.label)
        if not group(box, f"{label}{index + 1}").count():
            box.get_by_role("button", name=f"{label}を追加する").click()
            box = group(page, field.label)
        item_box = group(box, f"{label}{index + 1}")
        for sub in field.fields:
            fill_item(item_box, sub, item.get(sub.name))


def shown_as_input(page, field: Field) -> bool:
    """False for a field the page shows as text (prefilled and not to be changed here) or hides
    (its condition is false: not in the page, or in it but hidden until the answer that needs
    it, decision 0064)."""
    inputs = page.locator(f'[name="{field.name}"], [name^="{field.name}."]')
    hidden = page.locator(".conditional[hidden]").locator(
        f'[name="{field.name}"], [name^="{field.name}."]'
    )
    return inputs.count() > 0 and hidden.count() == 0


def fill_step(page, step: Step, answers: dict, files_dir: Path | None = None) -> None:
    for field in step.fields:
        if (field.name in answers or field.type == "file") and shown_as_input(page, field):
            fill_field(page, page, field, answers.get(field.name), files_dir)


def tab_to(page, locator, limit: int = 120) -> None:
    """Press Tab until `locator` has focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"could not reach {locator} with the Tab key")


def open_file_chooser_by_keyboard(page):
    """Open the focused file input's chooser with the keyboard. Headless Chromium now and then
    drops the first activation, so Space and then Enter are tried; the mouse is never used."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for key in ("Space", "Enter", "Space"):
        try:
            with page.expect_file_chooser(timeout=4000) as chooser:
                page.keyboard.press(key)
            return chooser.value
        except PlaywrightTimeout:
            continue
    raise AssertionError("the file chooser did not open from the keyboard")
