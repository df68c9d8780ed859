"""Field types read what people type on phones: full-width digits, hyphens, 和暦, hiragana;
composite fields keep every part as typed; My Numbers are encrypted and masked."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field

import pytest
from werkzeug.datastructures import MultiDict

from portal import japanese
from portal.catalog.fields import has_gaiji
from portal.catalog.schema import Field, Option

KEY = bytes(range(32))


@dataclass
class FakeContext:
    form: MultiDict
    files: MultiDict = dc_field(default_factory=MultiDict)
    previous: dict = dc_field(default_factory=dict)

    def store_upload(self, field, storage):
        return {"token": "t1", "filename": storage.filename}, None

    def upload_info(self, token):
        return {"token": token, "filename": "x.pdf"} if token == "t1" else None

    def encrypt(self, plaintext):
        return japanese.encrypt_sensitive(plaintext, KEY)

    def decrypt(self, token):
        return japanese.decrypt_sensitive(token, KEY)


def field(**kwargs) -> Field:
    return Field(**{"name": "x", "label": "項目", **kwargs})


def read(f: Field, form: dict | list, **ctx):
    return f.field_type.read(f, FakeContext(MultiDict(form), **ctx), f.name)


@pytest.mark.parametrize(
    ("kind", "extra", "typed", "value", "error"),
    [
        ("text", {}, "  大原 太郎 ", "大原 太郎", None),
        ("text", {}, "", None, "項目を入力してください"),
        ("text", {"max_length": 3}, "あいうえ", None, "項目は3文字以内で入力してください"),
        ("number", {"min": 1, "max": 10}, "２", 2, None),
        ("number", {"min": 1, "max": 10}, "0", None, "項目は1以上で入力してください"),
        ("number", {"min": 1, "max": 10}, "11", None, "項目は10以下で入力してください"),
        ("number", {}, "二", None, "項目は数字で入力してください"),
        ("number", {}, "9" * 5000, None, "項目は15桁以内の数字で入力してください"),
        ("tel", {}, "０９０－１２３４－５６７８", "09012345678", None),
        ("tel", {}, "0470-62-1111", "0470621111", None),
        ("tel", {}, "12345", None, "項目は0から始まる10桁または11桁の電話番号を入力してください"),
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
        ("kana", {}, "おおはら　たろう", "オオハラ タロウ", None),
        ("kana", {}, "ｵｵﾊﾗ ﾀﾛｳ", "オオハラ タロウ", None),
        ("kana", {}, "大原", None, "項目はカタカナまたはひらがなで入力してください"),
        ("date", {}, "令和6年4月1日", "2024-04-01", None),
        ("date", {}, "R6.4.1", "2024-04-01", None),
        ("date", {}, "２０２４－０４－０１", "2024-04-01", None),
        ("date", {}, "平成31年4月30日", "2019-04-30", None),
        ("postal_code", {}, "〒２９８－８５０１", "2988501", None),
        ("yesno", {}, "yes", True, None),
        ("yesno", {}, "no", False, None),
    ],
)
def test_single_value_fields(kind, extra, typed, value, error):
    f = field(type=kind, **extra)
    parsed = read(f, {"x": typed})
    assert parsed.value == value
    assert parsed.errors == ({"x": error} if error else {})
    assert parsed.raw == typed  # what was typed is kept for redisplay


def test_impossible_wareki_date_is_refused_with_a_reason():
    parsed = read(field(type="date"), {"x": "令和1年4月30日"})
    assert parsed.value is None
    assert "令和は2019年5月1日から" in parsed.errors["x"]


def test_dates_are_shown_in_both_calendars():
    f = field(type="date")
    assert f.field_type.display(f, "2024-04-01", None) == "2024年（令和6年）4月1日"
    assert f.field_type.raw_from_value(f, "2019-05-01", None) == "令和元年5月1日"


def test_optional_field_may_be_empty():
    parsed = read(field(type="text", required=False), {"x": ""})
    assert parsed.value is None and parsed.errors == {}


def test_checkboxes_keep_catalog_order_and_refuse_unknown_values():
    options = [Option(value="a", label="A"), Option(value="b", label="B")]
    f = field(type="checkboxes", options=options)
    parsed = read(f, [("x", "b"), ("x", "a")])
    assert parsed.value == ["a", "b"]
    assert f.field_type.display(f, parsed.value, None) == "A、B"
    assert read(f, [("x", "z")]).errors == {"x": "項目は一覧から選んでください"}
    assert read(f, []).errors == {"x": "項目を1つ以上選んでください"}


def test_declaration_must_be_ticked():
    f = field(type="declaration")
    assert read(f, {}).errors == {"x": "項目を確認し、チェックを入れてください"}
    assert read(f, {"x": "yes"}).value is True


def test_my_number_is_encrypted_masked_and_never_sent_back():
    f = field(type="mynumber")
    parsed = read(f, {"x": "１２３４ ５６７８ ９０１８"})
    assert parsed.errors == {}
    assert parsed.value.startswith("v1:") and "123456789018" not in parsed.value
    ctx = FakeContext(MultiDict())
    assert f.field_type.display(f, parsed.value, ctx) == "●●●● ●●●● 9018"
    assert f.field_type.raw_from_value(f, parsed.value, ctx) == ""
    # An empty input keeps what is stored.
    kept = read(f, {"x": ""}, previous={"x": parsed.value})
    assert kept.value == parsed.value and kept.errors == {}
    wrong = read(f, {"x": "123456789012"})
    assert wrong.value is None and "正しくありません" in wrong.errors["x"]
    assert wrong.raw == "123456789012"


def test_address_is_filled_from_the_postal_code():
    f = field(type="address", label="住所")
    parsed = read(f, {"x.postal_code": "298-8501", "x.block": "7400-1"})
    assert parsed.errors == {}
    assert parsed.value == {
        "postal_code": "2988501",
        "prefecture": "千葉県",
        "city": "いすみ市",
        "town": "大原",
        "block": "7400-1",
        "building": "",
    }
    assert f.field_type.display(f, parsed.value, None) == "〒298-8501 千葉県いすみ市大原7400-1"


def test_address_errors_name_the_part_and_keep_the_rest():
    f = field(type="address", label="住所")
    parsed = read(f, {"x.postal_code": "9999999", "x.block": "1-2"})
    assert parsed.errors == {
        "x.postal_code": "住所のこの郵便番号に当てはまる住所が見つかりません。郵便番号を確かめてください",
        "x.prefecture": "住所の都道府県を入力してください",
        "x.city": "住所の市区町村を入力してください",
        "x.town": "住所の町名を入力してください",
    }
    assert parsed.raw["block"] == "1-2"


def test_person_accepts_gaiji_and_converts_the_reading():
    f = field(type="person", label="申請者")
    parsed = read(
        f,
        {
            "x.name": "𠮷田 太郎",
            "x.kana": "よしだ たろう",
            "x.birth_date": "平成5年4月1日",
            "x.gaiji_note": "「よし」は上が土",
        },
    )
    assert parsed.errors == {}
    assert parsed.value["kana"] == "ヨシダ タロウ"
    assert parsed.value["birth_date"] == "1993-04-01"
    assert parsed.value["has_gaiji"] is True
    assert has_gaiji("高橋") is False and has_gaiji("髙橋") is True


def test_group_items_are_read_by_index():
    f = field(
        type="group",
        label="子ども",
        item_label="子ども",
        min_items=1,
        max_items=3,
        fields=[
            Field(name="name", type="text", label="氏名"),
            Field(name="birth", type="date", label="生年月日"),
        ],
    )
    parsed = read(
        f,
        {
            "x.count": "2",
            "x.0.name": "一郎",
            "x.0.birth": "R7.8.1",
            "x.1.name": "",
            "x.1.birth": "",
        },
    )
    assert parsed.errors == {
        "x.1.name": "氏名を入力してください",
        "x.1.birth": "生年月日を入力してください",
    }
    assert parsed.raw[0] == {"name": "一郎", "birth": "R7.8.1"}


def test_bank_account_names_and_yucho_conversion():
    f = field(type="bank_account", label="振込先")
    parsed = read(
        f,
        {
            "x.kind": "yucho",
            "x.yucho_kigo": "12340",
            "x.yucho_bango": "12345671",
            "x.holder_kana": "おおはら はなこ",
        },
    )
    assert parsed.errors == {}, parsed.errors
    assert parsed.value["bank_code"] == "9900"
    assert parsed.value["branch_code"] == "238"
    assert parsed.value["account_number"] == "1234567"
    assert parsed.value["holder_kana"] == "オオハラ ハナコ"
    assert parsed.value["bank_name"] == "ゆうちょ"
    wrong = read(f, {"x.kind": "bank", "x.bank_code": "12", "x.holder_kana": "オオハラ"})
    assert "x.bank_code" in wrong.errors and "x.account_type" in wrong.errors
