"""Field types read what people type on phones: full-width digits, hyphens, spaces."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from portal.catalog.schema import Field, Option


def field(**kwargs) -> Field:
    return Field(**{"name": "x", "label": "項目", **kwargs})


@pytest.mark.parametrize(
    ("kind", "extra", "typed", "value", "error"),
    [
        ("text", {}, "  大原 太郎 ", "大原 太郎", None),
        ("text", {}, "", None, "項目を入力してください"),
        ("text", {"max_length": 3}, "あいうえ", None, "項目は3文字以内で入力してください"),
        ("number", {"min": 1, "max": 10}, "２", 2, None),
        ("number", {"min": 1, "max": 10}, "0", None, "項目は1以上で入力してください"),
        ("number", {"min": 1, "max": 10}, "11", None, "項目は10以下で入力してください"),
        ("number", {}, "二", None, "項目は半角または全角の数字で入力してください"),
        ("tel", {}, "０９０－１２３４－５６７８", "09012345678", None),
        ("tel", {}, "0470-62-1111", "0470621111", None),
        ("tel", {}, "12345", None, "項目は0から始まる10桁または11桁の数字で入力してください"),
        ("email", {}, "ｔａｒｏ@example.jp", "taro@example.jp", None),
        ("email", {}, "taro.example.jp", None, "項目は name@example.jp の形で入力してください"),
        ("radio", {"options": [Option(value="a", label="A")]}, "a", "a", None),
        (
            "radio",
            {"options": [Option(value="a", label="A")]},
            "b",
            None,
            "項目は一覧から選んでください",
        ),
        ("select", {"options": [Option(value="a", label="A")]}, "", None, "項目を選んでください"),
    ],
)
def test_single_value_fields(kind, extra, typed, value, error):
    f = field(type=kind, **extra)
    parsed = f.field_type.read(f, MultiDict({"x": typed}))
    assert parsed.value == value
    assert parsed.error == error
    assert parsed.raw == typed  # what was typed is kept for redisplay


def test_optional_field_may_be_empty():
    f = field(type="text", required=False)
    parsed = f.field_type.read(f, MultiDict({"x": ""}))
    assert parsed.value is None and parsed.error is None


def test_checkboxes_keep_catalog_order_and_refuse_unknown_values():
    options = [Option(value="a", label="A"), Option(value="b", label="B")]
    f = field(type="checkboxes", options=options)
    parsed = f.field_type.read(f, MultiDict([("x", "b"), ("x", "a")]))
    assert parsed.value == ["a", "b"]
    assert f.field_type.display(f, parsed.value) == "A、B"
    forged = f.field_type.read(f, MultiDict([("x", "z")]))
    assert forged.error == "項目は一覧から選んでください"
    empty = f.field_type.read(f, MultiDict())
    assert empty.error == "項目を1つ以上選んでください"


def test_declaration_must_be_ticked():
    f = field(type="declaration")
    assert f.field_type.read(f, MultiDict()).error == "項目を確認し、チェックを入れてください"
    assert f.field_type.read(f, MultiDict({"x": "yes"})).value is True
