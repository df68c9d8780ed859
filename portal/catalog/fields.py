"""Field types: how each kind of catalog field is read from a form, checked and shown back.

A field type turns the raw strings of a POST into a stored value (str, int, list or bool) or a
Japanese error message, and back into display text for check-your-answers pages. The catalog
schema validates `type:` against `FIELD_TYPES`, so an unknown type stops start-up. Each type names
the template macro in `templates/components/fields.html` that renders it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from werkzeug.datastructures import MultiDict

    from portal.catalog.schema import Field

Value = str | int | bool | list[str] | None


@dataclass(frozen=True)
class Parsed:
    """The outcome of reading one field: the value to store, or an error (and the raw input)."""

    value: Value
    error: str | None = None
    raw: Any = None  # what the person typed, shown back on error so nothing is lost


def _nfkc(text: str) -> str:
    # Full-width digits and letters become ASCII; the ideographic space becomes a normal space.
    return unicodedata.normalize("NFKC", text).strip()


class FieldType:
    name: str = ""
    macro: str = ""
    needs_options = False
    multiple = False

    def read(self, field: Field, form: MultiDict) -> Parsed:
        raw = form.get(field.name, "")
        text = raw.strip()
        if not text:
            return Parsed(None, self.missing_message(field) if field.required else None, raw)
        return self.parse(field, text, raw)

    def missing_message(self, field: Field) -> str:
        return f"{field.label}を入力してください"

    def parse(self, field: Field, text: str, raw: str) -> Parsed:
        if field.max_length and len(text) > field.max_length:
            return Parsed(None, f"{field.label}は{field.max_length}文字以内で入力してください", raw)
        return Parsed(text, None, raw)

    def display(self, field: Field, value: Value) -> str:
        return "" if value is None else str(value)

    def check_value(self, field: Field, value: Any) -> str | None:
        """Check a stored or example value (catalog check): an error message or None."""
        if value is None:
            return None
        raw = value if isinstance(value, str) else str(value)
        return self.parse(field, raw.strip(), raw).error


class TextType(FieldType):
    name, macro = "text", "text_input"


class TextareaType(FieldType):
    name, macro = "textarea", "textarea"


class EmailType(FieldType):
    name, macro = "email", "text_input"
    pattern = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    def parse(self, field: Field, text: str, raw: str) -> Parsed:
        text = _nfkc(text)
        if not self.pattern.match(text):
            return Parsed(None, f"{field.label}は name@example.jp の形で入力してください", raw)
        return Parsed(text, None, raw)


class TelType(FieldType):
    """Japanese phone numbers: 10 or 11 digits starting with 0; hyphens and widths optional."""

    name, macro = "tel", "text_input"

    def parse(self, field: Field, text: str, raw: str) -> Parsed:
        digits = re.sub(r"[-‐－ー−()（）\s]", "", _nfkc(text))
        if not re.fullmatch(r"0\d{9,10}", digits):
            return Parsed(
                None, f"{field.label}は0から始まる10桁または11桁の数字で入力してください", raw
            )
        return Parsed(digits, None, raw)


class NumberType(FieldType):
    name, macro = "number", "number_input"

    def parse(self, field: Field, text: str, raw: str) -> Parsed:
        text = _nfkc(text)
        if not re.fullmatch(r"-?\d+", text):
            return Parsed(None, f"{field.label}は半角または全角の数字で入力してください", raw)
        number = int(text)
        if field.min is not None and number < field.min:
            return Parsed(None, f"{field.label}は{field.min}以上で入力してください", raw)
        if field.max is not None and number > field.max:
            return Parsed(None, f"{field.label}は{field.max}以下で入力してください", raw)
        return Parsed(number, None, raw)

    def check_value(self, field: Field, value: Any) -> str | None:
        return None if value is None else self.parse(field, str(value), str(value)).error


class ChoiceType(FieldType):
    """One option out of the catalog's list (select or radio buttons)."""

    needs_options = True

    def missing_message(self, field: Field) -> str:
        return f"{field.label}を選んでください"

    def parse(self, field: Field, text: str, raw: str) -> Parsed:
        if text not in {option.value for option in field.options}:
            return Parsed(None, f"{field.label}は一覧から選んでください", raw)
        return Parsed(text, None, raw)

    def display(self, field: Field, value: Value) -> str:
        labels = {option.value: option.label for option in field.options}
        return labels.get(str(value), "") if value is not None else ""


class SelectType(ChoiceType):
    name, macro = "select", "select"


class RadioType(ChoiceType):
    name, macro = "radio", "radios"


class CheckboxesType(FieldType):
    """Any number of options; `required` means at least one."""

    name, macro = "checkboxes", "checkboxes"
    needs_options = True
    multiple = True

    def read(self, field: Field, form: MultiDict) -> Parsed:
        chosen = [value for value in form.getlist(field.name) if value]
        allowed = [option.value for option in field.options]
        if any(value not in allowed for value in chosen):
            return Parsed(None, f"{field.label}は一覧から選んでください", chosen)
        if field.required and not chosen:
            return Parsed(None, f"{field.label}を1つ以上選んでください", chosen)
        return Parsed([value for value in allowed if value in chosen], None, chosen)

    def display(self, field: Field, value: Value) -> str:
        if not value:
            return "なし"
        labels = {option.value: option.label for option in field.options}
        return "、".join(labels.get(item, item) for item in value)

    def check_value(self, field: Field, value: Any) -> str | None:
        if not isinstance(value, list):
            return "must be a list of option values"
        allowed = {option.value for option in field.options}
        unknown = [item for item in value if item not in allowed]
        return f"unknown options {unknown}" if unknown else None


class DeclarationType(FieldType):
    """A single checkbox the person must tick (declaration or consent)."""

    name, macro = "declaration", "declaration"

    def read(self, field: Field, form: MultiDict) -> Parsed:
        ticked = form.get(field.name) == "yes"
        if field.required and not ticked:
            return Parsed(None, f"{field.label}を確認し、チェックを入れてください", ticked)
        return Parsed(ticked, None, ticked)

    def display(self, field: Field, value: Value) -> str:
        return "確認しました" if value else "未確認"

    def check_value(self, field: Field, value: Any) -> str | None:
        return None if isinstance(value, bool) else "must be true or false"


FIELD_TYPES: dict[str, FieldType] = {
    field_type.name: field_type
    for field_type in (
        TextType(),
        TextareaType(),
        EmailType(),
        TelType(),
        NumberType(),
        SelectType(),
        RadioType(),
        CheckboxesType(),
        DeclarationType(),
    )
}
