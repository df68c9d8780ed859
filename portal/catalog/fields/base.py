"""What every field type shares: the outcome of reading a field (`Parsed`), what a field type may
ask of the engine (`FieldContext`), what it reads of a catalog field (`FieldSpec`), the base
class `FieldType` and the HTML id of an input path.

`FieldSpec` is a Protocol, so the field types know nothing of the catalog's pydantic models
(`portal.catalog.schema.Field` is one `FieldSpec`): the schema imports the field types, never the
other way round.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import TYPE_CHECKING, Any, Protocol

from portal.i18n import translate
from portal.input_policy import BAD_CHARACTERS, TEXT_MAX, bad_characters

if TYPE_CHECKING:
    from werkzeug.datastructures import FileStorage, MultiDict


class OptionSpec(Protocol):
    """One option of a choice field, as the field types read it."""

    @property
    def value(self) -> str: ...

    @property
    def label(self) -> str: ...


class FieldSpec(Protocol):
    """What a field type reads of a catalog field (see portal.catalog.schema.Field)."""

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def required(self) -> bool: ...

    @property
    def options(self) -> Sequence[OptionSpec]: ...

    @property
    def min(self) -> int | None: ...

    @property
    def max(self) -> int | None: ...

    @property
    def max_length(self) -> int | None: ...

    @property
    def suffix(self) -> str | None: ...

    @property
    def alias(self) -> bool: ...

    @property
    def year_optional(self) -> bool: ...

    @property
    def max_files(self) -> int: ...

    @property
    def fields(self) -> Sequence[FieldSpec]: ...

    @property
    def min_items(self) -> int: ...

    @property
    def max_items(self) -> int: ...

    @property
    def item_label(self) -> str: ...

    @property
    def field_type(self) -> FieldType: ...


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

    @property
    def previous(self) -> dict[str, Any]:
        """The answers stored before this request."""

    def store_upload(
        self, field: FieldSpec, storage: FileStorage
    ) -> tuple[dict | None, str | None]:
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


def _iso(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _suffix(field: FieldSpec, text: str) -> str:
    return f"{text}{field.suffix}" if field.suffix and text else text


class FieldType:
    name: str = ""
    macro: str = ""
    needs_options = False
    composite = False  # value is a dict or list: conditions may not compare it directly
    # Its `display` already masks the value (a My Number's last four digits, an account
    # number's last three): staff see that; `reveal` shows it whole (portal.staff, audited).
    self_masking = False

    # -- reading a POST -------------------------------------------------------------------
    def read_input(self, field: FieldSpec, ctx: FieldContext, path: str) -> Parsed:
        """`read`, under the input policy every field type shares (decision 0044): a value of
        the field (or of one of its parts) with a character the policy refuses, or longer than
        `input_limit` allows, is an error beside that input; what was entered is kept for the
        page."""
        parsed = self.read(field, ctx, path)
        for key, value in ctx.form.items(multi=True):
            if key != path and not key.startswith(f"{path}."):
                continue
            if bad_characters(value):
                return Parsed(
                    None,
                    {
                        key: translate(
                            "%(label)sに%(refused)s",
                            label=field.label,
                            refused=translate(BAD_CHARACTERS),
                        )
                    },
                    parsed.raw,
                )
            limit = self.input_limit(field, key[len(path) + 1 :])
            if len(value) > limit:
                message = translate(
                    "%(label)sは%(limit)s文字以内で入力してください", label=field.label, limit=limit
                )
                return Parsed(None, {key: message}, parsed.raw)
        return parsed

    def input_limit(self, field: FieldSpec, part: str) -> int:
        """The longest text accepted for an input of the field: `part` is "" for the field
        itself, else the name of one of its parts. Explicit for every input a field type reads,
        because answers are stored as JSON, where no column bounds them; an input the type does
        not read gets TEXT_MAX (it is never stored)."""
        return field.max_length or TEXT_MAX

    def read(self, field: FieldSpec, ctx: FieldContext, path: str) -> Parsed:
        raw = ctx.form.get(path, "")
        text = raw.strip()
        if not text:
            error = self.missing_message(field) if field.required else None
            return Parsed(None, {path: error} if error else {}, raw)
        value, error = self.parse(field, text)
        return Parsed(value if error is None else None, {path: error} if error else {}, raw)

    def missing_message(self, field: FieldSpec) -> str:
        return translate("%(label)sを入力してください", label=field.label)

    def parse(self, field: FieldSpec, text: str) -> tuple[Any, str | None]:
        """Turn non-empty text into a value, or return an error message."""
        if field.max_length and len(text) > field.max_length:
            return None, translate(
                "%(label)sは%(max_length)s文字以内で入力してください",
                label=field.label,
                max_length=field.max_length,
            )
        return text, None

    # -- showing values ---------------------------------------------------------------------
    def raw_from_value(self, field: FieldSpec, value: Any, ctx: FieldContext | None) -> Any:
        """What to put back in the inputs when a stored answer is shown for editing."""
        return "" if value is None else str(value)

    def reveal(self, field: FieldSpec, value: Any, ctx: Any) -> str:
        """The answer in full, for a staff member who typed a reason (a `sensitive` field)."""
        return self.display(field, value, ctx)

    def display(self, field: FieldSpec, value: Any, ctx: FieldContext | None) -> str:
        return "" if value is None else _suffix(field, str(value))

    # -- catalog examples ------------------------------------------------------------------
    def check_value(self, field: FieldSpec, value: Any) -> str | None:
        """Check a stored or example value (catalog check, completeness): an error or None."""
        if value is None:
            return None
        _value, error = self.parse(field, str(value).strip())
        return error

    def from_example(self, field: FieldSpec, value: Any, ctx: FieldContext | None) -> Any:
        """The stored form of a catalog example value (demo data and tests)."""
        if value is None:
            return None
        parsed, _error = self.parse(field, str(value).strip())
        return parsed
