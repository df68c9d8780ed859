"""Field types of one input each: text, e-mail, telephone, postal code, kana, date, number, the
choices (select, radio, yes/no, checkboxes), the declaration, the My Number and file uploads."""

from __future__ import annotations

import re

from portal import clock, japanese
from portal.catalog.fields.base import FieldType, Parsed, _iso, _nfkc
from portal.i18n import shown, shown_date, translate


class TextType(FieldType):
    """Free text. A text field whose label ends in 氏名 (a child's name in a group, 世帯主の氏名
    ...) is a person's name: half-width kana are made full-width and characters a registered name
    cannot hold (emoji, symbols) are refused (issue 22)."""

    name, macro = "text", "text_input"

    def parse(self, field, text):
        value, error = super().parse(field, text)
        if error is None and field.label.endswith("氏名"):
            try:
                value = japanese.normalize_name(text)
            except japanese.InputError as refused:
                return None, f"{field.label}{refused}"
        return value, error


class TextareaType(FieldType):
    name, macro = "textarea", "textarea"


class EmailType(FieldType):
    name, macro = "email", "text_input"
    pattern = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    def parse(self, field, text):
        text = _nfkc(text)
        if not self.pattern.match(text):
            return None, translate(
                "%(label)sは name@example.jp の形で入力してください", label=field.label
            )
        return text, None


class _JapaneseNormalised(FieldType):
    """Text normalised by a function of portal.japanese that raises InputError."""

    normalise = staticmethod(lambda text: text)

    def parse(self, field, text):
        try:
            return self.normalise(text), None
        except japanese.InputError as error:
            return None, translate("%(label)sは%(error)s", label=field.label, error=error)


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
            return None, translate(
                "%(label)sはカタカナまたはひらがなで入力してください", label=field.label
            )
        if field.max_length and len(kana) > field.max_length:
            return None, translate(
                "%(label)sは%(max_length)s文字以内で入力してください",
                label=field.label,
                max_length=field.max_length,
            )
        return kana, None


class DateType(FieldType):
    """和暦 or 西暦 in, ISO date stored, both calendars shown back."""

    name, macro = "date", "text_input"

    def parse(self, field, text):
        try:
            near = clock.today_local() if field.year_optional else None
            return japanese.parse_date(text, near=near).isoformat(), None
        except japanese.InputError as error:
            return None, translate("%(label)sは%(error)s", label=field.label, error=error)

    def raw_from_value(self, field, value, ctx):
        return japanese.format_wareki(_iso(value)) if value else ""

    def display(self, field, value, ctx):
        return shown_date(_iso(value)) if value else ""


class NumberType(FieldType):
    name, macro = "number", "number_input"
    max_digits = 15  # counts, amounts and years need far fewer

    def parse(self, field, text):
        text = _nfkc(text)
        if not re.fullmatch(r"-?\d+", text):
            return None, translate("%(label)sは数字で入力してください", label=field.label)
        if len(text.lstrip("-")) > self.max_digits:  # int() refuses thousands of digits
            return None, translate(
                "%(label)sは%(max_digits)s桁以内の数字で入力してください",
                label=field.label,
                max_digits=self.max_digits,
            )
        number = int(text)
        if field.min is not None and number < field.min:
            return None, translate(
                "%(label)sは%(min)s以上で入力してください", label=field.label, min=field.min
            )
        if field.max is not None and number > field.max:
            return None, translate(
                "%(label)sは%(max)s以下で入力してください", label=field.label, max=field.max
            )
        return number, None


class ChoiceType(FieldType):
    """One option out of the catalog's list (select or radio buttons)."""

    needs_options = True

    def missing_message(self, field):
        return translate("%(label)sを選んでください", label=field.label)

    def parse(self, field, text):
        if text not in {option.value for option in field.options}:
            return None, translate("%(label)sは一覧から選んでください", label=field.label)
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
        return translate("%(label)sを選んでください", label=field.label)

    def parse(self, field, text):
        if text not in {"yes", "no"}:
            return None, translate("%(label)sは一覧から選んでください", label=field.label)
        return text == "yes", None

    def raw_from_value(self, field, value, ctx):
        return "" if value is None else ("yes" if value else "no")

    def display(self, field, value, ctx):
        return "" if value is None else (shown("はい") if value else shown("いいえ"))

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
            return Parsed(
                None,
                {path: translate("%(label)sは一覧から選んでください", label=field.label)},
                chosen,
            )
        if field.required and not chosen:
            return Parsed(
                None,
                {path: translate("%(label)sを1つ以上選んでください", label=field.label)},
                chosen,
            )
        return Parsed([value for value in allowed if value in chosen], {}, chosen)

    def raw_from_value(self, field, value, ctx):
        return list(value or [])

    def display(self, field, value, ctx):
        if not value:
            return shown("なし")
        labels = {option.value: option.label for option in field.options}
        return shown("、").join(labels.get(item, item) for item in value)

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
            return Parsed(
                None,
                {path: translate("%(label)sを確認し、チェックを入れてください", label=field.label)},
                ticked,
            )
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
            return Parsed(
                None, {path: translate("%(label)sは%(error)s", label=field.label, error=error)}, raw
            )
        return Parsed(ctx.encrypt(number), {}, raw)

    def raw_from_value(self, field, value, ctx):
        return ""  # never sent back to the browser

    self_masking = True

    def display(self, field, value, ctx):
        if not value or ctx is None:
            return ""
        return japanese.mask_my_number(ctx.decrypt(value))

    def reveal(self, field, value, ctx):
        if not value or ctx is None:
            return ""
        number = ctx.decrypt(value)
        return f"{number[:4]} {number[4:8]} {number[8:]}"

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
                errors[path] = translate(
                    "%(label)sは%(max_files)sつまでです",
                    label=field.label,
                    max_files=field.max_files,
                )
                break
            info, error = ctx.store_upload(field, storage)
            if error:
                errors[path] = translate("%(label)s：%(error)s", label=field.label, error=error)
            else:
                kept.append(info)
        if not errors and field.required and not kept:
            errors[path] = translate("%(label)sを選んでください", label=field.label)
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
