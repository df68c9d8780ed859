"""Japanese built in Python reaches resident pages only through a translation call (decision 0096).

tests/unit/test_template_japanese.py scans the templates; this scans the Python that hands them
texts. A Japanese string written in a resident-facing module and passed to `render_template`,
`flash`, an error dict or a JSON answer without `translate()` shows in Japanese in every language:
the counter's declaration error (`{"declaration": DECLARATION_ERROR}` on the visitor's screen)
was such a text, and so were the step page's notices ("ファイルを取り消しました").

What is scanned: every module under portal/ but those in SKIPPED (staff-only, logs, data, the
command line). What is looked at: string literals with kana or kanji (f-strings as their text with
`{}` for each value), not docstrings, not arguments of a translation call (`_`, `translate`,
`gettext`, `ngettext`, `shown`).

- A module constant holding Japanese (`DECLARATION_ERROR = "..."`, a table of failures) is the
  Japanese message id of a text translated where it is shown: every use of its name (in its
  module, `from ... import NAME`, `module.NAME`) must be inside a translation call; or it is in
  TRANSLATED_ELSEWHERE with the call that translates it (a template's `_(heading)`), which must
  still be there. Either way each of its Japanese strings must be a msgid of the English
  catalog. A constant that is Japanese on purpose is in ALLOWED under its name.
- Any other literal must be in ALLOWED (Japanese on purpose: mail bodies, logs, stored values,
  Japanese-only formats, ...) or KNOWN_UNTRANSLATED (resident-facing texts not translated yet:
  a list that may only shrink). A listed text that is gone fails, as in the template test.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PORTAL = ROOT / "portal"
ENGLISH = PORTAL / "translations" / "en" / "LC_MESSAGES" / "messages.po"

JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
TRANSLATORS = {"_", "translate", "gettext", "ngettext", "lazy_gettext", "shown"}

# Modules (or folders) not scanned, with why no resident reads their Japanese.
SKIPPED = {
    "portal/staff/": "staff pages stay Japanese (decision 0070)",
    "portal/audit/": "the audit log, read by staff",
    "portal/retention/": "retention duty: logs and stored records",
    "portal/outbox/": "the development mailbox, Japanese only",
    "portal/catalog/": "catalog schema, checks and field types: the catalog's Japanese is "
    "translated through the translation files; field errors through translate() (base.py)",
    "portal/japanese.py": "Japanese data: eras, kana tables, input errors put in translated "
    "messages by the field types",
    "portal/furigana.py": "ふりがな of Japanese text (readings are Japanese by definition)",
    "portal/i18n.py": "the translation machinery: the notice's texts per language",
    "portal/cli.py": "command-line help for developers",
    "portal/demo.py": "the demo's data (Japanese records)",
    "portal/demo_data/": "the demo's data (Japanese records)",
    "portal/db.py": "database internals",
    "portal/mock_jpki/provider.py": "OIDC claims (the card's Japanese data)",
}

# Constants whose uses are not inside a translation call, with the file and the text of the call
# that translates them where they are shown.
TRANSLATED_ELSEWHERE = {
    ("portal/identity/views.py", "FAILURES"): ("templates/identity/failed.html", "_(heading)"),
    ("portal/submissions/signing.py", "FAILURES"): (
        "templates/identity/failed.html",
        "_(message)",
    ),
    ("portal/counter/views.py", "SIGN_FAILURES"): (
        "templates/identity/failed.html",
        "_(heading)",
    ),
    ("portal/mock_jpki/views.py", "ERROR_TEXTS"): ("templates/mock_jpki/error.html", "_(text)"),
    ("portal/mock_pay/views.py", "METHOD_HINTS"): (
        "mock_pay/views.py",
        "{key: translate(text) for key, text in table.items()}",
    ),
    ("portal/mock_pay/views.py", "STATUS_LABELS"): (
        "mock_pay/views.py",
        "{key: translate(text) for key, text in table.items()}",
    ),
}

TRANSLATED_ELSEWHERE.update(
    {
        ("portal/web.py", "ERROR_PAGES"): ("web.py", "heading=translate(title or default_title)"),
        ("portal/web.py", "LOGIN_LIMITED"): ("web.py", "heading=translate(title or default_title)"),
        ("portal/web.py", "BAD_INPUT"): ("web.py", "heading=translate(title or default_title)"),
        ("portal/assisted/views.py", "DURATION_LABELS"): (
            "templates/assisted/consent.html",
            "_(label)",
        ),
        ("portal/assisted/views.py", "STATES"): (
            "assisted/views.py",
            "translate(STATES[state]) if state in STATES else None",
        ),
        ("portal/life_events/checklist.py", "GROUPS"): (
            "life_events/checklist.py",
            "(translate(label), [line for line in found if line.kind == kind])",
        ),
        ("portal/pages/display.py", "SIZES"): ("templates/pages/display.html", "_(label)"),
        ("portal/pages/display.py", "CONTRASTS"): ("templates/pages/display.html", "_(label)"),
        ("portal/kiosk/offers.py", "OFFERS"): (
            "templates/kiosk/certificates.html",
            "_(offer.title)",
        ),
        ("portal/kiosk/offers.py", "NO_TAX_RECORD"): (
            "kiosk/certificates.py",
            "message=translate(str(unavailable))",
        ),
        ("portal/payments/views.py", "PAYMENT_STATUS_TEXT"): (
            "payments/views.py",
            "return translate(text) if text else",
        ),
        ("portal/mock_pay/views.py", "METHOD_LABELS"): (
            "mock_pay/views.py",
            "{key: translate(text) for key, text in table.items()}",
        ),
        ("portal/submissions/steps.py", "PREFILL_NOTES"): (
            "submissions/steps.py",
            "translate(PREFILL_NOTES[source])",
        ),
        ("portal/identity/signature.py", "MESSAGES"): (
            "templates/submissions/status.html",
            "_(verification.reason)",
        ),
        ("portal/identity/signature.py", "VALID_MESSAGE"): (
            "templates/submissions/status.html",
            "_(verification.reason)",
        ),
        ("portal/submissions/signing.py", "CA_UNREACHABLE"): (
            "templates/submissions/status.html",
            "_(verification.reason)",
        ),
        ("portal/submissions/who.py", "WHO_SUBJECT"): (
            "submissions/who.py",
            '"label": translate(field.label)',
        ),
        ("portal/submissions/summary.py", "WHO_LETTER"): (
            "submissions/who.py",
            '"label": translate(field.label)',
        ),
        ("portal/submissions/drafts.py", "RELATIONSHIPS"): (
            "templates/components/fields.html",
            "_(part.label)",
        ),
        ("portal/uploads/service.py", "MESSAGE_EMPTY"): (
            "submissions/forms.py",
            "translate(rejected.text, **rejected.values)",
        ),
        ("portal/uploads/service.py", "MESSAGE_INFECTED"): (
            "submissions/forms.py",
            "translate(rejected.text, **rejected.values)",
        ),
        ("portal/uploads/service.py", "MESSAGE_SCANNER_UNAVAILABLE"): (
            "submissions/forms.py",
            "translate(rejected.text, **rejected.values)",
        ),
        ("portal/uploads/service.py", "MESSAGE_TOO_LARGE"): (
            "submissions/forms.py",
            "translate(rejected.text, **rejected.values)",
        ),
        ("portal/uploads/service.py", "MESSAGE_TYPE"): (
            "submissions/forms.py",
            "translate(rejected.text, **rejected.values)",
        ),
        ("portal/uploads/service.py", "MESSAGE_UNREADABLE"): (
            "submissions/forms.py",
            "translate(rejected.text, **rejected.values)",
        ),
    }
)

# Japanese on purpose, per module: literals (f-strings as text with {}) or constant names.
ALLOWED: dict[str, set[str]] = {
    # The OpenAPI document's title and a field's example: for developers, bilingual on purpose.
    "portal/api/schemas.py": {"API_TITLE", "How the fee is charged, e.g. 1通300円"},
    # Mails are built in Japanese (decision 0070, "Left": mails in the resident's language need
    # the language stored with the submission); the subjects and leads are msgids already.
    "portal/appointments/messages.py": {
        "WEEKDAYS_JA",
        "\n予約の確認・変更・取り消し：{}",
        "{} 様",
        "{}の予約（{}）",
        "{}年{}月{}日（{}）{}時{}分から{}時{}分まで",
        "【明日】窓口の予約のお知らせ",
        "予約の日時を次のとおり変更しました。",
        "明日、次の予約があります。",
        "次のとおり、窓口の予約を受け付けました。",
        "次の予約を取り消しました。",
        "用件：{}\n人数：{}人",
        "窓口の予約の日時を変更しました",
        "窓口の予約を取り消しました",
        "窓口の予約を受け付けました",
    },
    "portal/bundles/plan.py": {
        "【{}】{}の期限が近づいています",
        "{}の期限は {}年{}月{}日 です。\nまだお済みでない場合は、期限までに手続をしてください。"
        "\n\nまとめて申請した手続の受付番号：{}\n手続の状況と、窓口に行く日の予約は「申請した手続"
        "の一覧」から確認できます。\n\n{}（このメールは送信専用です。お問い合わせは {} へ）\n※これは"
        "デモンストレーション用のポータルから送られたメールです。",
        # Unused by the pages (bundles/overview.html has its own translated labels).
        "STATE_LABELS",
    },
    "portal/payments/service.py": {
        "【入金】{} {}円",
        "・{} {}円",
        "次の手数料の入金を確認しました（デモ）。\n\n支払番号：{}\n金額：{}円\n支払方法：{}\n",
        # Payment items' descriptions: stored with the payment (the provider and staff see them).
        "{} ほか{}件",
        "{}（受付番号 {}）",
    },
    # Japanese-only date and time formats: the foreign ones are in the branches beside them.
    "portal/appointments/views.py": {
        "WEEKDAYS_JA",
        "{}年{}",
        "{}年{}月",
        "{}時{}分",
        "{}曜日",
        "{}月",
        "{}月{}日（{}）",
    },
    "portal/payments/views.py": {"{}年{}月{}日 {}時{}分"},
    # Stored values: the audit log's reasons, the assist record, the submission's channel
    # notes, record-read purposes (read by staff and the records log).
    "portal/assisted/engine.py": {
        "%H時%M分",
        "%Y年%m月%d日 %H時%M分",
        "{}さん（{}）がお手伝いしました（ご本人の同意：{}、{}について、{}まで）",
    },
    "portal/counter/confirmation.py": {
        "PRINTED_REASON",
        "SCREEN_REASON",
        "START_REASON",
        "印刷した申請書（ご本人の署名）",
        "確認用の画面",
        "確認用の画面（マイナンバーカードによる電子署名）",
    },
    "portal/counter/engine.py": {"市の窓口で、お話をうかがって職員が入力しました"},
    "portal/kiosk/engine.py": {"市のキオスク端末で、ご本人が入力しました"},
    "portal/identity/views.py": {"ログインした方の住民記録の特定"},
    "portal/submissions/prefill.py": {"{}：申請書の事前入力", "RELATIONSHIP_LABELS"},
    "portal/submissions/public_funds.py": {"{}：公金受取口座の確認"},
    "portal/submissions/who.py": {
        "{}：代理で申請できる同じ世帯の方の確認",
        "{}：代理申請の対象となる方の特定",
    },
    "portal/kiosk/certificates.py": {"{}（キオスク）1通"},
    # The document a signature covers (its title is part of what is signed, in Japanese).
    "portal/bundles/signing.py": {"{}（申請書）"},
    # (and the retry label, a msgid translated by identity/failed.html's _(retry_label)).
    "portal/counter/views.py": {"{}（申請書）", "申請内容の確認に戻る"},
    "portal/submissions/signing.py": {"{}（申請書）", "申請内容の確認に戻る"},
    # Message ids handed to a template that translates them (_(retry_label), _(heading) ...).
    "portal/discard.py": {
        "この申請を削除する",
        "まとめて申請するために入力した内容（すべての手続の入力と添付したファイル）はすべて削除され、"
        "元に戻すことはできません。",
        "まとめて申請をやめる",
        "入力した内容と添付したファイルはすべて削除され、元に戻すことはできません。",
        "削除する",
    },
    # The mock card service: the default of ERROR_TEXTS (translated by _(text)); patterns and the
    # separator that read the demo cards' Japanese labels (card_label translates each part).
    "portal/mock_jpki/views.py": {
        "要求を処理できませんでした。",
        "_AGE",
        "_RELATIVE",
        "・",
        "[\\s\\-ー－]",
    },
    "portal/pages/statement.py": {"一部準拠", "準拠", "配慮"},  # keys of translate()d tables
    "portal/web.py": {
        "ページの有効期限が切れました",
        "安全のため、しばらく操作がなかったページからは送信できません。前のページに戻り、ページを"
        "読み込み直してから、もう一度送信してください。",
    },
    # Patterns and character sets that read typed input, not texts.
    "portal/mock_pay/service.py": {" -\u2010\u2011\u2012\u2013\u2014\u2212\u30fc"},
    "portal/submissions/summary.py": {"STAFF_MASKED"},  # the staff pages' mask
    "portal/uploads/service.py": {"DEFAULT_STEM"},  # a stored file name
}
# The kiosk's certificate: a Japanese document (kiosk/certificate.html, lang="ja"), and the
# record-read purposes (stored).
ALLOWED["portal/kiosk/offers.py"] = {
    "住民票の写し（キオスク）の作成",
    "所得証明書（キオスク）の作成",
    "{}円",
    "{}年{}月{}日",
    "{}年分（1月から12月）",
    "上記のとおり住民票に記載されていることを証明します（デモ）。",
    "上記のとおり証明します（デモ）。",
    "住所",
    "住民記録が見つからないため、マイナンバーカードの記載事項を印刷しています（デモ）。",
    "市・県民税",
    "所得の年",
    "所得金額",
    "氏名",
    "生年月日",
    "課税",
    "非課税",
}

# Resident-facing texts built in Python and shown untranslated: to be translated (decision
# 0096, "Left"). May only shrink.
KNOWN_UNTRANSLATED: dict[str, set[str]] = {
    # The JSON API's error messages: read by programs, shown on no resident page (decision 0096,
    # "Second round").
    "portal/api/views.py": {"ERRORS", "PROCEDURE_NOT_FOUND"},
}


@dataclass
class Found:
    literals: set[str]  # Japanese literals outside translation calls and module constants
    constants: dict[str, list[str]]  # module constant -> its Japanese strings
    uses: list[tuple[str, bool, bool]]  # (name, in a translation call, as an attribute)
    imports: set[str]  # names imported with `from ... import`
    source: str


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _text(node: ast.AST) -> str:
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
    assert isinstance(node, ast.Constant)
    return str(node.value)


def _strings(node: ast.AST, skip: set[int]) -> list[ast.AST]:
    """Japanese string literals under `node`, an f-string as one, not those in `skip`."""
    found: list[ast.AST] = []
    parts: set[int] = set()
    for sub in ast.walk(node):
        if id(sub) in skip or id(sub) in parts:
            continue
        if isinstance(sub, ast.JoinedStr):
            parts.update(id(p) for p in sub.values)
            if JAPANESE.search(_text(sub)):
                found.append(sub)
        elif (
            isinstance(sub, ast.Constant)
            and isinstance(sub.value, str)
            and JAPANESE.search(sub.value)
        ):
            found.append(sub)
    return found


def scan(source: str) -> Found:
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in TRANSLATORS:
            inside = {id(sub) for arg in [*node.args, *node.keywords] for sub in ast.walk(arg)}
            skip |= inside
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skip.add(id(first.value))
    constants: dict[str, list[str]] = {}
    in_constants: set[int] = set()
    for statement in tree.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if len(names) == 1:
            strings = _strings(value, skip)
            if strings:
                constants[names[0]] = [_text(s) for s in strings]
                in_constants |= {id(sub) for sub in ast.walk(value)}
    literals = {_text(s) for s in _strings(tree, skip | in_constants)}
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            uses.append((node.id, id(node) in skip, False))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            uses.append((node.attr, id(node) in skip, True))
    imports = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    return Found(literals, constants, uses, imports, source)


def scanned_modules() -> dict[str, Found]:
    found = {}
    for path in sorted(PORTAL.rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if any(name == s or (s.endswith("/") and name.startswith(s)) for s in SKIPPED):
            continue
        found[name] = scan(path.read_text(encoding="utf-8"))
    return found


def english_msgids() -> set[str]:
    with ENGLISH.open("rb") as f:
        return {str(m.id) for m in read_po(f) if m.id}


def constant_uses(modules: dict[str, Found], module: str, name: str) -> list[bool]:
    """Whether each use of `module`'s constant `name` is inside a translation call: by name in
    its own module or a module importing it, as an attribute (`signing.FAILURES`) anywhere."""
    return [
        translated
        for other, scanned in modules.items()
        for used, translated, attribute in scanned.uses
        if used == name and (attribute or other == module or name in scanned.imports)
    ]


def problems(modules: dict[str, Found], msgids: set[str]) -> dict[str, list[str]]:
    """What is Japanese outside a translation call and listed nowhere, per module."""
    found: dict[str, list[str]] = {}
    for module, scanned in modules.items():
        listed = ALLOWED.get(module, set()) | KNOWN_UNTRANSLATED.get(module, set())
        bad = sorted(scanned.literals - listed)
        for name, strings in sorted(scanned.constants.items()):
            if name in listed:
                continue
            uses = constant_uses(modules, module, name)
            elsewhere = TRANSLATED_ELSEWHERE.get((module, name))
            if not elsewhere and not (uses and all(uses)):
                bad.append(f"{name} (used outside a translation call)")
                continue
            missing = [s for s in strings if s not in msgids]
            if missing:
                bad.append(f"{name}: not in the English catalog: {missing}")
        if bad:
            found[module] = bad
    return found


def test_resident_python_hands_no_japanese_past_a_translation_call():
    assert problems(scanned_modules(), english_msgids()) == {}


def test_listed_exceptions_are_still_there():
    """An exception that is gone (translated, moved, deleted) is taken off its list."""
    modules = scanned_modules()
    for table in (ALLOWED, KNOWN_UNTRANSLATED):
        for module, texts in table.items():
            assert module in modules, module
            present = modules[module].literals | set(modules[module].constants)
            assert texts <= present, (module, sorted(texts - present))
    for (module, name), (where, call) in TRANSLATED_ELSEWHERE.items():
        assert name in modules[module].constants, (module, name)
        assert not all(constant_uses(modules, module, name) or [False]), (
            f"{module} {name}: every use is translated now; take it off TRANSLATED_ELSEWHERE"
        )
        assert call in (PORTAL / where).read_text(encoding="utf-8"), (where, call)
    for prefix in SKIPPED:
        assert (ROOT / prefix).exists(), prefix


def test_a_constant_used_untranslated_is_found():
    """The counter's bug: the constant is translated in one place and not in the other."""
    source = (
        'ERROR = "申請内容の確認にチェックを入れてください"\n'
        "def good():\n    return {'declaration': translate(ERROR)}\n"
        "def bad():\n    return page({'declaration': ERROR})\n"
    )
    modules = {"portal/x.py": scan(source)}
    assert problems(modules, english_msgids()) == {
        "portal/x.py": ["ERROR (used outside a translation call)"]
    }
    fixed = source.replace("page({'declaration': ERROR})", "page({'declaration': _(ERROR)})")
    assert problems({"portal/x.py": scan(fixed)}, english_msgids()) == {}


def test_a_literal_and_an_unknown_msgid_are_found():
    source = (
        'NOTICE = "まだ誰も訳していない知らせ"\n'
        "def view():\n"
        "    flash(translate(NOTICE))\n"
        '    flash(f"{n}件を削除しました")\n'
        '    flash(translate("ファイルを取り消しました"))\n'
    )
    assert problems({"portal/x.py": scan(source)}, english_msgids()) == {
        "portal/x.py": [
            "{}件を削除しました",
            "NOTICE: not in the English catalog: ['まだ誰も訳していない知らせ']",
        ]
    }
