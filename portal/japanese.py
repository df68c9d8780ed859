"""Japanese input normalisation for form fields: kana, dates, postal codes, phones, My Number.

Residents type on phones, so the same value arrives in many shapes: full-width digits, hiragana
where katakana is wanted, 和暦 (era) dates, every kind of hyphen, ideographic spaces. The pure
functions here turn those shapes into one canonical value, or raise :class:`InputError` whose
message is a Japanese sentence fragment written to follow a field label (the caller shows
``f"{label}は{message}"``). Kana and width conversion is delegated to jaconv; no conversion
tables are written by hand. My Number (個人番号) values get the official check digit and, for
storage, AES-GCM encryption via the cryptography package (:func:`encrypt_sensitive`).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import unicodedata
from contextlib import suppress
from datetime import date
from typing import NamedTuple

import jaconv
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class InputError(ValueError):
    """A value the resident must correct; ``str(error)`` is the Japanese message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Every hyphen-like character residents type in numbers and dates: ASCII hyphen-minus, the
# Unicode hyphens and dashes, the minus sign, full-width hyphen-minus, small hyphen-minus, the
# katakana prolonged sound mark (full- and half-width) and the hyphen bullet.
_HYPHENS = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\ufe63\u30fc\uff70\u2043"
_HYPHEN_RE = re.compile(f"[{re.escape(_HYPHENS)}]")
_SPACE_RUN_RE = re.compile("[ \u3000]+")


def _to_ascii(text: str) -> str:
    """Full-width ASCII letters, digits, symbols and the ideographic space to ASCII (jaconv)."""
    return jaconv.z2h(text, kana=False, ascii=True, digit=True)


def _digits_only(text: str, *, remove: str = "") -> str:
    """Width-normalise, then drop hyphens, spaces and the characters in ``remove``."""
    text = _HYPHEN_RE.sub("", _to_ascii(text))
    return "".join(ch for ch in text if not ch.isspace() and ch not in remove)


# --- Kana -------------------------------------------------------------------------------------

# A kana followed by a voicing mark that survived jaconv: a combining mark (decomposed input,
# U+3099/U+309A) or a half-width mark jaconv leaves after a full-width kana (e.g. "ﾜﾞ" -> "ワﾞ").
_VOICED_RE = re.compile(
    "([\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fd\u30fe])([\u3099\u309a\uff9e\uff9f])"
)
_HALF_TO_COMBINING = {"\uff9e": "\u3099", "\uff9f": "\u309a"}
_HALF_TO_SPACING = str.maketrans({"\uff9e": "\u309b", "\uff9f": "\u309c"})


def _compose_voiced(match: re.Match[str]) -> str:
    base, mark = match.groups()
    composed = unicodedata.normalize("NFC", base + _HALF_TO_COMBINING.get(mark, mark))
    return composed if len(composed) == 1 else match.group(0)


def to_katakana(text: str) -> str:
    """Hiragana and half-width katakana to full-width katakana; spaces collapsed and stripped.

    Kanji, Latin letters (of either width) and digits are left as they are. Kana followed by a
    voicing mark are composed as NFKC would (か + U+3099 -> ガ) without applying NFKC to the
    whole string, which would also rewrite compatibility kanji and full-width letters.
    """
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    text = jaconv.hira2kata(text)
    text = _VOICED_RE.sub(_compose_voiced, text)
    text = text.translate(_HALF_TO_SPACING)  # lone half-width voicing marks to full width
    return _SPACE_RUN_RE.sub(" ", text).strip()


# Full-width katakana ァ..ヺ (with ヴ and the small kana), the middle dot ・, the prolonged sound
# mark ー and the iteration marks ヽヾ (いすゞ -> イスヾ); words separated by single ASCII spaces.
_KATAKANA_NAME_RE = re.compile("[\u30a1-\u30fe]+(?: [\u30a1-\u30fe]+)*")


def is_katakana_name(text: str) -> bool:
    """True if ``text`` is a katakana name (normalise it with :func:`to_katakana` first)."""
    return _KATAKANA_NAME_RE.fullmatch(text) is not None


# --- Names -------------------------------------------------------------------------------------

# Characters a name cannot hold in the resident register: pictographs and emoji, other symbols
# (★ ♡ ㈱), currency and maths signs, private-use and unassigned code points, and the invisible
# joiners and presentation selectors emoji are built from. Kanji variation selectors (IVS,
# U+E0100..) are kept: they choose a registered glyph of the kanji before them.
_NAME_REFUSED_CATEGORIES = {"So", "Sm", "Sc", "Co", "Cn", "Cs"}
_NAME_REFUSED_CHARACTERS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}
_NAME_ALLOWED_SYMBOLS = {"=", "＝", "゛", "゜"}


def unregistrable_characters(text: str) -> list[str]:
    """The characters of `text` that a registered name cannot hold (emoji, symbols), in order,
    each once."""
    found: list[str] = []
    for char in text:
        if char in _NAME_ALLOWED_SYMBOLS:
            continue
        category = unicodedata.category(char)
        refused = (
            category in _NAME_REFUSED_CATEGORIES
            or category == "Sk"  # modifier symbols: ^ ` and the emoji skin tones
            or char in _NAME_REFUSED_CHARACTERS
            or 0x1F000 <= ord(char) <= 0x1FAFF  # the emoji blocks, whatever their category
        )
        if refused and char not in found:
            found.append(char)
    return found


def normalize_name(text: str) -> str:
    """A name as typed into a form, as the register holds it: half-width katakana (and their
    voicing marks) become full-width, runs of spaces one space. Raises InputError naming the
    characters a registered name cannot hold (emoji and other symbols)."""
    refused = unregistrable_characters(text)
    if refused:
        shown = "".join(refused)
        raise InputError(
            f"に登録できない文字（{shown}）が含まれています。絵文字や記号は使えません。"
            "住民票やマイナンバーカードに記載されている文字で入力してください"
        )
    text = jaconv.h2z(text, kana=True, ascii=False, digit=False)
    text = _VOICED_RE.sub(_compose_voiced, text)
    text = text.translate(_HALF_TO_SPACING)
    return re.sub(r"([ \u3000])[ \u3000]+", r"\1", text).strip()


# --- Dates ------------------------------------------------------------------------------------


class _Era(NamedTuple):
    name: str
    letter: str
    start: date


# Oldest first. Dates are proleptic Gregorian throughout, as in the brief; before 1873 Japan
# used the lunisolar calendar, so early Meiji dates are the conventional Gregorian equivalents.
_ERAS = (
    _Era("明治", "M", date(1868, 10, 23)),
    _Era("大正", "T", date(1912, 7, 30)),
    _Era("昭和", "S", date(1926, 12, 25)),
    _Era("平成", "H", date(1989, 1, 8)),
    _Era("令和", "R", date(2019, 5, 1)),
)
_ERA_BY_KEY = {key: era for era in _ERAS for key in (era.name, era.letter)}
# Squared era signs some keyboards offer (㍾㍽㍼㍻㋿), expanded to the two-kanji names.
_SQUARED_ERAS = str.maketrans(
    {"\u337e": "明治", "\u337d": "大正", "\u337c": "昭和", "\u337b": "平成", "\u32ff": "令和"}
)
EARLIEST_DATE = _ERAS[0].start
LATEST_DATE = date(2200, 12, 31)

_SEP_Y = r"\s*(?:年|[-/.・])\s*"
_SEP_M = r"\s*(?:月|[-/.・])\s*"
_WESTERN_RE = re.compile(
    rf"(?:西暦)?\s*([0-9]{{4}}){_SEP_Y}([0-9]{{1,2}}){_SEP_M}([0-9]{{1,2}})\s*日?"
)
_COMPACT_RE = re.compile(r"(?:西暦)?\s*([0-9]{4})([0-9]{2})([0-9]{2})")
_ERA_RE = re.compile(
    rf"(明治|大正|昭和|平成|令和|[MTSHR])\s*(元|[0-9]{{1,3}}){_SEP_Y}"
    rf"([0-9]{{1,2}}){_SEP_M}([0-9]{{1,2}})\s*日?",
    re.IGNORECASE,
)

_MONTH_DAY_RE = re.compile(rf"([0-9]{{1,2}}){_SEP_M}([0-9]{{1,2}})\s*日?")

_BAD_DATE = "正しい日付ではありません（例：令和6年4月1日、2024-04-01）"
_OUT_OF_RANGE = "明治元年（1868年）10月23日から2200年12月31日までの日付を入力してください"


def _kanji_date(year: str, month: int, day: int) -> str:
    return f"{year}年{month}月{day}日"


def _build_date(year: int, month: int, day: int, shown: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InputError(f"{shown}は存在しない日付です") from None


def _parse_era(key: str, era_year: str, month: int, day: int) -> date:
    era = _ERA_BY_KEY[key.upper() if len(key) == 1 else key]
    year_number = 1 if era_year == "元" else int(era_year)
    shown = _kanji_date(era.name + ("元" if era_year == "元" else str(year_number)), month, day)
    if year_number == 0:
        raise InputError(f"{shown}は存在しない日付です")
    year = era.start.year + year_number - 1
    if year > LATEST_DATE.year:
        raise InputError(_OUT_OF_RANGE)
    result = _build_date(year, month, day, shown)
    if result < era.start:
        began = _kanji_date(str(era.start.year), era.start.month, era.start.day)
        raise InputError(f"{shown}は存在しない日付です（{era.name}は{began}から）")
    following = _ERAS.index(era) + 1
    if following < len(_ERAS) and result >= _ERAS[following].start:
        last = date.fromordinal(_ERAS[following].start.toordinal() - 1)
        ended = _kanji_date(str(last.year), last.month, last.day)
        raise InputError(f"{shown}は存在しない日付です（{era.name}は{ended}まで）")
    return result


def _nearest(month: int, day: int, near: date) -> date:
    """The day `month`/`day` nearest to `near`: of last year, this year or next year."""
    shown = f"{month}月{day}日"
    candidates = []
    for year in (near.year - 1, near.year, near.year + 1):
        with suppress(ValueError):  # 2月29日 exists in leap years only
            candidates.append(date(year, month, day))
    if not candidates:
        raise InputError(f"{shown}は存在しない日付です")
    return min(candidates, key=lambda candidate: abs((candidate - near).days))


def parse_date(text: str, near: date | None = None) -> date:
    """Parse a Western or era date as residents type it; raise :class:`InputError` if invalid.

    Accepted: 2024-04-01, 2024/4/1, 2024.4.1, 2024年4月1日, 20240401, 令和6年4月1日, 令和元年5月1日,
    R6.4.1, r06/04/01, H31.4.30 — with full-width digits and letters, any hyphen, and spaces
    around the parts. Dates must lie between 1868-10-23 (明治元年) and 2200-12-31.
    With `near` (a date field whose year may be left out, decision 0088), also a month and a
    day alone: 12月14日, 12/14, 12-14 mean that day nearest to `near`.
    """
    normalized = _HYPHEN_RE.sub("-", _to_ascii(text.translate(_SQUARED_ERAS))).strip()
    if near is not None and (match := _MONTH_DAY_RE.fullmatch(normalized)):
        return _nearest(int(match.group(1)), int(match.group(2)), near)
    if match := _ERA_RE.fullmatch(normalized):
        key, era_year, month, day = match.groups()
        return _parse_era(key, era_year, int(month), int(day))
    match = _WESTERN_RE.fullmatch(normalized) or _COMPACT_RE.fullmatch(normalized)
    if not match:
        raise InputError(_BAD_DATE)
    year, month, day = (int(part) for part in match.groups())
    if not EARLIEST_DATE.year <= year <= LATEST_DATE.year:
        raise InputError(_OUT_OF_RANGE)
    result = _build_date(year, month, day, _kanji_date(str(year), month, day))
    if result < EARLIEST_DATE:
        raise InputError(_OUT_OF_RANGE)
    return result


def _era_of(d: date) -> tuple[_Era, str]:
    if d < EARLIEST_DATE:
        raise ValueError(f"{d.isoformat()} is before Meiji 1 (1868-10-23) and has no era name")
    era = next(era for era in reversed(_ERAS) if era.start <= d)
    year_number = d.year - era.start.year + 1
    return era, "元" if year_number == 1 else str(year_number)


def format_wareki(d: date) -> str:
    """``date(2024, 4, 1)`` -> "令和6年4月1日"; the first year is 元年. ValueError before Meiji."""
    era, year = _era_of(d)
    return _kanji_date(era.name + year, d.month, d.day)


def format_seireki(d: date) -> str:
    """``date(2024, 4, 1)`` -> "2024年4月1日"."""
    return _kanji_date(str(d.year), d.month, d.day)


def format_both(d: date) -> str:
    """``date(2024, 4, 1)`` -> "2024年（令和6年）4月1日"."""
    era, year = _era_of(d)
    return f"{d.year}年（{era.name}{year}年）{d.month}月{d.day}日"


# --- Postal codes and phone numbers -----------------------------------------------------------

_BAD_POSTAL_CODE = "7桁の数字で入力してください（例：298-8501）"
_BAD_PHONE = "0から始まる10桁または11桁の電話番号を入力してください"
# 11 digits: 050 (IP), 060, 070/080/090 (mobile) and 0800 (free dial, within 080).
# 10 digits: landlines, 0120, 0570 ...: a 0, then a non-zero digit; the 0X0 prefixes are all
# non-geographic 11-digit services, so a 10-digit 0X0 number is a mobile number missing a digit.
_PHONE_RE = re.compile(r"0[5-9]0[0-9]{8}|0[1-9][1-9][0-9]{7}")


def normalize_postal_code(text: str) -> str:
    """Turn "〒２９８－８５０１" into "2988501"; :class:`InputError` unless 7 digits remain."""
    digits = _digits_only(text, remove="〒")
    if not re.fullmatch("[0-9]{7}", digits):
        raise InputError(_BAD_POSTAL_CODE)
    return digits


def format_postal_code(text: str) -> str:
    """Turn "2988501" (or any form :func:`normalize_postal_code` accepts) into "298-8501"."""
    digits = normalize_postal_code(text)
    return f"{digits[:3]}-{digits[3:]}"


def normalize_phone(text: str) -> str:
    """Turn "０９０（１２３４）５６７８" into "09012345678"; :class:`InputError` if not a number."""
    digits = _digits_only(text, remove="()")
    if not _PHONE_RE.fullmatch(digits):
        raise InputError(_BAD_PHONE)
    return digits


# --- My Number (個人番号) --------------------------------------------------------------------

_BAD_MY_NUMBER = "12桁の数字で入力してください"
_WRONG_MY_NUMBER = "個人番号（マイナンバー）が正しくありません。番号を確かめてください"


def normalize_my_number(text: str) -> str:
    """Full-width digits, spaces and hyphens removed; raise :class:`InputError` unless 12 digits."""
    digits = _digits_only(text)
    if not re.fullmatch("[0-9]{12}", digits):
        raise InputError(_BAD_MY_NUMBER)
    return digits


def my_number_check_digit(first11: str) -> int:
    """The check digit of the 11 leading digits (行政手続における特定の個人を識別するための番号の
    利用等に関する法律施行令 第8条 / 同施行規則 第5条).

    With P_n the n-th digit counted from the right and Q_n = n + 1 (1 <= n <= 6) or n - 5
    (7 <= n <= 11), remainder = sum(P_n * Q_n) mod 11; the check digit is 0 when the remainder
    is 0 or 1 and 11 - remainder otherwise.
    """
    if not re.fullmatch("[0-9]{11}", first11):
        raise ValueError("my_number_check_digit needs exactly 11 ASCII digits")
    total = 0
    for n, digit in enumerate(reversed(first11), start=1):
        total += int(digit) * (n + 1 if n <= 6 else n - 5)
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


def parse_my_number(text: str) -> str:
    """Normalise and verify the check digit; return the 12 digits or raise :class:`InputError`."""
    digits = normalize_my_number(text)
    if my_number_check_digit(digits[:11]) != int(digits[11]):
        raise InputError(_WRONG_MY_NUMBER)
    return digits


def is_valid_my_number(text: str) -> bool:
    try:
        parse_my_number(text)
    except InputError:
        return False
    return True


def mask_my_number(number: str) -> str:
    """Show "123456789018" as "●●●● ●●●● 9018"; raises :class:`InputError` unless 12 digits."""
    return "●●●● ●●●● " + normalize_my_number(number)[-4:]


# --- Encryption at rest ---------------------------------------------------------------------

_VERSION_PREFIX = "v1:"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_BYTES = 32
_URLSAFE_B64_RE = re.compile("[A-Za-z0-9_-]+={0,2}")


def _b64decode(value: str) -> bytes:
    """Strict URL-safe base64 (padding optional); binascii.Error on anything else."""
    if not _URLSAFE_B64_RE.fullmatch(value):
        raise binascii.Error("not URL-safe base64")
    value = value.rstrip("=")
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _aesgcm(key: bytes) -> AESGCM:
    if not isinstance(key, bytes) or len(key) != _KEY_BYTES:
        raise ValueError("the encryption key must be exactly 32 bytes (see load_key)")
    return AESGCM(key)


def encrypt_sensitive(plaintext: str, key: bytes) -> str:
    """AES-256-GCM with a random 96-bit nonce; "v1:" + URL-safe base64(nonce + ciphertext)."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _aesgcm(key).encrypt(nonce, plaintext.encode("utf-8"), None)
    return _VERSION_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def decrypt_sensitive(token: str, key: bytes) -> str:
    """Reverse :func:`encrypt_sensitive`; ValueError on a wrong key or a damaged token."""
    cipher = _aesgcm(key)
    if not token.startswith(_VERSION_PREFIX):
        raise ValueError("not an encrypted value: missing the 'v1:' version prefix")
    try:
        raw = _b64decode(token[len(_VERSION_PREFIX) :])
    except (binascii.Error, ValueError):
        raise ValueError("encrypted value is not valid URL-safe base64") from None
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise ValueError("encrypted value is too short to hold a nonce and a tag")
    try:
        plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], None)
    except InvalidTag:
        raise ValueError("decryption failed: wrong key, or the value was altered") from None
    return plain.decode("utf-8")


def load_key(value: str) -> bytes:
    """A 32-byte key from an environment value: 64 hex characters or URL-safe base64."""
    value = value.strip()
    hint = (
        "the encryption key must be 64 hex characters or URL-safe base64 of 32 bytes; "
        "generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
    )
    if not value:
        raise ValueError("the encryption key is empty; " + hint)
    if re.fullmatch("[0-9A-Fa-f]{64}", value):
        return bytes.fromhex(value)
    try:
        key = _b64decode(value)
    except (binascii.Error, ValueError):
        raise ValueError(hint) from None
    if len(key) != _KEY_BYTES:
        raise ValueError(f"the encryption key decodes to {len(key)} bytes, not 32; " + hint)
    return key
