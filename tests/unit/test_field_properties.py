"""Property: every registered field type reads any text a browser can send — control characters,
lone surrogates, astral-plane characters, bytes decoded leniently, very long digit runs — without
an exception, and always decides: a value to store, or Japanese messages by input path.

The types come from FIELD_TYPES (the registry the catalog validates against), not from a list
here, so a new type is covered the day it is registered. A composite type reads its inputs by
path (`address.postal_code`, `children.0.name`, `children.count`): the form below answers every
path a type asks for with generated text, so no type's parts need to be known here either."""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from portal import japanese
from portal.catalog.fields import FIELD_TYPES
from portal.catalog.schema import Field, Option

KEY = bytes(range(32))
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

# Every code point, surrogates (category Cs) and controls included.
ANY_CHARACTER = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
HOSTILE_TEXT = st.one_of(
    st.text(ANY_CHARACTER, max_size=60),
    st.binary(max_size=60).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
    st.binary(max_size=60).map(lambda raw: raw.decode("utf-8", "replace")),
    # Digits and dates around the edges: too long for int(), years out of range, eras.
    st.integers(0, 6000).map(lambda n: "9" * n),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        [
            "\x00",
            "\ud800",
            "\U0001f600",
            "𠮷野家",
            "令和999999999年1月1日",
            "R0.0.0",
            "9999-12-31",
            "0000-01-01",
            "99999-01-01",
            "明治1年1月1日",
            "１" * 5000,
            "٣٤٥",
            "〒" + "9" * 7,
            "yes",
            "a",
            "bank",
            "yucho",
        ]
    ),
)

OPTIONS = [Option(value="a", label="A"), Option(value="b", label="B")]


def variants(type_name: str) -> list[Field]:
    """The fields of a type the catalog can hold: plain, and with every limit a field can have."""
    extra: dict[str, Any] = {}
    if FIELD_TYPES[type_name].needs_options:
        extra["options"] = OPTIONS
    if type_name == "group":
        extra["fields"] = [
            Field(name=f"sub_{name}", type=name, label=f"小項目{i}", **_options(name))
            for i, name in enumerate(sorted(FIELD_TYPES))
            if name != "group"
        ]
        extra["max_items"] = 3
    plain = Field(name="x", type=type_name, label="項目", **extra)
    limited = Field(
        name="x",
        type=type_name,
        label="項目",
        min=0,
        max=100,
        max_length=20,
        alias=True,
        required=False,
        **extra,
    )
    return [plain, limited]


def _options(type_name: str) -> dict:
    return {"options": OPTIONS} if FIELD_TYPES[type_name].needs_options else {}


class HostileForm(MultiDict):
    """A form that answers every input path with generated text (drawn when first asked)."""

    def __init__(self, draw) -> None:
        super().__init__()
        self._draw = draw
        self._values: dict[str, list[str]] = {}

    def _list(self, key: str) -> list[str]:
        if key not in self._values:
            self._values[key] = self._draw(st.lists(HOSTILE_TEXT, min_size=1, max_size=3))
        return self._values[key]

    def get(self, key, default=None, type=None):  # noqa: A002 - MultiDict's signature
        return self._list(key)[0]

    def getlist(self, key, type=None):  # noqa: A002
        return list(self._list(key))

    def __contains__(self, key) -> bool:
        return True

    def __getitem__(self, key):
        return self._list(key)[0]


@dataclass
class Context:
    form: MultiDict
    files: MultiDict = dc_field(default_factory=MultiDict)
    previous: dict = dc_field(default_factory=dict)

    def store_upload(self, field, storage):
        return {"token": "t1", "filename": storage.filename}, None

    def upload_info(self, token):
        return None

    def encrypt(self, plaintext):
        return japanese.encrypt_sensitive(plaintext, KEY)

    def decrypt(self, token):
        return japanese.decrypt_sensitive(token, KEY)


FIELDS = [field for name in sorted(FIELD_TYPES) for field in variants(name)]


@pytest.mark.parametrize(
    "field", FIELDS, ids=lambda f: f"{f.type}-{'req' if f.required else 'opt'}"
)
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_field_type_decides_on_any_text(field, data):
    ctx = Context(HostileForm(data.draw))
    parsed = field.field_type.read(field, ctx, field.name)
    # A decision: either errors, each a Japanese message on an input path of this field ...
    for path, message in parsed.errors.items():
        assert path == field.name or path.startswith(f"{field.name}."), path
        assert isinstance(message, str) and JAPANESE.search(message), message
    if parsed.errors:
        assert not parsed.ok
        return
    # ... or a value to store (None only where an empty answer is allowed), which can be shown.
    assert parsed.value is not None or not field.required or field.type == "declaration"
    shown = field.field_type.display(field, parsed.value, ctx)
    assert isinstance(shown, str)
    field.field_type.raw_from_value(field, parsed.value, ctx)


def test_every_registered_type_is_covered():
    assert {f.type for f in FIELDS} == set(FIELD_TYPES)
    group = next(f for f in FIELDS if f.type == "group")
    assert {sub.type for sub in group.fields} == set(FIELD_TYPES) - {"group"}
