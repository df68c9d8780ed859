"""Reading what residents type on the hosted payment pages: the card form (number with the Luhn
check, expiry MM/YY, security code, name on the card), the 3-D Secure password and the store
terminal's payment number. Full-width digits, spaces and hyphens are accepted as people type
them; the messages say what to do, in the resident's language (translate(), decision 0096). The
security code is never sent back to the page.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from portal.i18n import translate
from portal.mock_pay.service import TEST_CARDS, normalize_number

CARD_FIELDS = ("number", "expiry", "cvc", "name")
NAME_MAX = 45
_EXPIRY = re.compile(r"(\d{1,2})\s*/\s*(\d{2}|\d{4})|(\d{2})(\d{2})")
_CARD_NAME = re.compile(r"[A-Z][A-Z .'-]*")


def luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass
class CardForm:
    """What was typed (kept for the page, except the security code) and what it means."""

    typed: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    number: str | None = None  # the card number, digits only, when valid


def read_card(form: Mapping[str, str], *, today: dt.date) -> CardForm:
    typed = {name: (form.get(name) or "").strip() for name in CARD_FIELDS}
    result = CardForm(typed={**typed, "cvc": ""})
    errors = result.errors

    number = normalize_number(typed["number"])
    if not number:
        errors["number"] = translate("カード番号を入力してください")
    elif not (number.isascii() and number.isdigit()):
        errors["number"] = translate("カード番号は数字で入力してください")
    elif not 14 <= len(number) <= 16:
        errors["number"] = translate(
            "カード番号は14〜16桁の数字で入力してください（いま%(count)s桁です）",
            count=len(number),
        )
    elif not luhn_ok(number):
        errors["number"] = translate(
            "カード番号が正しくありません。カードに書かれた番号を確かめてください"
        )
    elif number not in TEST_CARDS:
        errors["number"] = translate(
            "このデモで使えるのはテスト用のカード番号だけです（例：4242 4242 4242 4242）"
        )
    else:
        result.number = number

    expiry = unicodedata.normalize("NFKC", typed["expiry"]).replace(" ", "")
    match = _EXPIRY.fullmatch(expiry)
    if not expiry:
        errors["expiry"] = translate("有効期限を入力してください")
    elif match is None:
        errors["expiry"] = translate("有効期限は、月/年の形で入力してください（例：12/28）")
    else:
        month = int(match.group(1) or match.group(3))
        year_text = match.group(2) or match.group(4)
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        if not 1 <= month <= 12:
            errors["expiry"] = translate("有効期限の月は01〜12で入力してください（例：12/28）")
        elif (year, month) < (today.year, today.month):
            errors["expiry"] = translate(
                "有効期限が過ぎています。有効期限内のカードを使ってください"
            )

    cvc = normalize_number(typed["cvc"])
    if not cvc:
        errors["cvc"] = translate("セキュリティコードを入力してください")
    elif not (cvc.isascii() and cvc.isdigit() and len(cvc) in (3, 4)):
        errors["cvc"] = translate("セキュリティコードは、カードの裏面などにある3桁か4桁の数字です")

    name = unicodedata.normalize("NFKC", typed["name"]).upper()
    name = re.sub(r"\s+", " ", name).strip()
    if not name:
        errors["name"] = translate("カード名義を入力してください")
    elif len(name) > NAME_MAX:
        errors["name"] = translate(
            "カード名義は%(limit)s文字以内で入力してください", limit=NAME_MAX
        )
    elif not _CARD_NAME.fullmatch(name):
        errors["name"] = translate(
            "カード名義は、カードに書かれているとおりローマ字で入力してください（例：TARO OHARA）"
        )
    return result


def read_password(form: Mapping[str, str]) -> tuple[str, str | None]:
    """The 3-D Secure one-time password as typed, and an error when empty."""
    typed = (form.get("otp") or "").strip()
    return typed, (None if typed else translate("ワンタイムパスワードを入力してください"))


def read_store_number(form: Mapping[str, str]) -> tuple[str, str | None]:
    """The payment number at the store terminal, and an error when it cannot be one."""
    typed = (form.get("number") or "").strip()
    number = normalize_number(typed)
    if not number:
        return typed, translate("お支払い番号を入力してください")
    if not (number.isascii() and number.isdigit()) or len(number) not in (11, 16):
        return typed, translate(
            "お支払い番号は、コンビニ払いは11桁、ペイジーはお客様番号16桁の数字で入力してください"
        )
    return typed, None
