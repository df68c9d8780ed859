"""Japanese input normalisation: example tables and hypothesis properties for portal.japanese."""

from __future__ import annotations

import base64
from datetime import date

import jaconv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal import japanese
from portal.japanese import (
    InputError,
    decrypt_sensitive,
    encrypt_sensitive,
    format_both,
    format_postal_code,
    format_seireki,
    format_wareki,
    is_katakana_name,
    is_valid_my_number,
    load_key,
    mask_my_number,
    my_number_check_digit,
    normalize_my_number,
    normalize_phone,
    normalize_postal_code,
    parse_date,
    parse_my_number,
    to_katakana,
)

HYPHENS = ["-", "‐", "－", "ー", "−", "―"]
BAD_DATE = "正しい日付ではありません（例：令和6年4月1日、2024-04-01）"
OUT_OF_RANGE = "明治元年（1868年）10月23日から2200年12月31日までの日付を入力してください"
BAD_POSTAL = "7桁の数字で入力してください（例：298-8501）"
BAD_PHONE = "0から始まる10桁または11桁の電話番号を入力してください"
BAD_MY_NUMBER = "12桁の数字で入力してください"
WRONG_MY_NUMBER = "個人番号（マイナンバー）が正しくありません。番号を確かめてください"

# An independent statement of the eras for the tests: (first day, kanji name, initial letter).
ERAS = [
    (date(2019, 5, 1), "令和", "R"),
    (date(1989, 1, 8), "平成", "H"),
    (date(1926, 12, 25), "昭和", "S"),
    (date(1912, 7, 30), "大正", "T"),
    (date(1868, 10, 23), "明治", "M"),
]


def era_year(d: date) -> tuple[str, str, int]:
    start, name, letter = next(era for era in ERAS if era[0] <= d)
    return name, letter, d.year - start.year + 1


# --- InputError -------------------------------------------------------------------------------


def test_input_error_is_a_value_error_whose_text_is_the_message():
    error = InputError("正しい日付ではありません")
    assert isinstance(error, ValueError)
    assert str(error) == "正しい日付ではありません"
    assert error.message == "正しい日付ではありません"


# --- Dates: examples --------------------------------------------------------------------------

ACCEPTED_DATES = [
    # Western forms
    ("2024-04-01", date(2024, 4, 1)),
    ("2024/4/1", date(2024, 4, 1)),
    ("2024.4.1", date(2024, 4, 1)),
    ("2024年4月1日", date(2024, 4, 1)),
    ("2024年4月1", date(2024, 4, 1)),
    ("20240401", date(2024, 4, 1)),
    ("西暦2024年4月1日", date(2024, 4, 1)),
    ("２０２４－０４－０１", date(2024, 4, 1)),
    ("２０２４年４月１日", date(2024, 4, 1)),
    ("２０２４０４０１", date(2024, 4, 1)),
    ("2024‐04‐01", date(2024, 4, 1)),
    ("2024ー04ー01", date(2024, 4, 1)),
    ("2024−04−01", date(2024, 4, 1)),
    ("2024―04―01", date(2024, 4, 1)),
    ("2024／4／1", date(2024, 4, 1)),
    ("2024．4．1", date(2024, 4, 1)),
    (" 2024 / 4 / 1 ", date(2024, 4, 1)),
    ("\u30002024年 4月 1日\u3000", date(2024, 4, 1)),
    ("2024-02-29", date(2024, 2, 29)),
    # Eras by kanji name
    ("令和6年4月1日", date(2024, 4, 1)),
    ("令和元年5月1日", date(2019, 5, 1)),
    ("令和1年5月1日", date(2019, 5, 1)),
    ("令和 6 年 4 月 1 日", date(2024, 4, 1)),
    ("令和６年４月１日", date(2024, 4, 1)),
    ("令和6.4.1", date(2024, 4, 1)),
    ("平成31年4月30日", date(2019, 4, 30)),
    ("平成元年1月8日", date(1989, 1, 8)),
    ("昭和64年1月7日", date(1989, 1, 7)),
    ("昭和元年12月25日", date(1926, 12, 25)),
    ("大正15年12月24日", date(1926, 12, 24)),
    ("大正元年7月30日", date(1912, 7, 30)),
    ("明治45年7月29日", date(1912, 7, 29)),
    ("明治元年10月23日", date(1868, 10, 23)),
    ("㍻31年4月30日", date(2019, 4, 30)),
    # Eras by initial letter, either case, full-width too
    ("R6.4.1", date(2024, 4, 1)),
    ("R06/04/01", date(2024, 4, 1)),
    ("r6-4-1", date(2024, 4, 1)),
    ("R6ー4ー1", date(2024, 4, 1)),
    ("Ｒ６．４．１", date(2024, 4, 1)),
    ("ｒ６－４－１", date(2024, 4, 1)),
    ("R 6.4.1", date(2024, 4, 1)),
    ("H31.4.30", date(2019, 4, 30)),
    ("h1.1.8", date(1989, 1, 8)),
    ("S64.1.7", date(1989, 1, 7)),
    ("s50/10/10", date(1975, 10, 10)),
    ("T1.7.30", date(1912, 7, 30)),
    ("t15.12.24", date(1926, 12, 24)),
    ("M1.10.23", date(1868, 10, 23)),
    ("m45.7.29", date(1912, 7, 29)),
    # The accepted range
    ("1868-10-23", date(1868, 10, 23)),
    ("2200-12-31", date(2200, 12, 31)),
    ("令和182年12月31日", date(2200, 12, 31)),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED_DATES)
def test_parse_date_accepts(text, expected):
    assert parse_date(text) == expected


REJECTED_DATES = [
    ("2023-02-29", "2023年2月29日は存在しない日付です"),
    ("2024-13-01", "2024年13月1日は存在しない日付です"),
    ("2024/4/31", "2024年4月31日は存在しない日付です"),
    ("20230229", "2023年2月29日は存在しない日付です"),
    ("令和1年4月30日", "令和1年4月30日は存在しない日付です（令和は2019年5月1日から）"),
    ("令和元年4月30日", "令和元年4月30日は存在しない日付です（令和は2019年5月1日から）"),
    ("R1.4.30", "令和1年4月30日は存在しない日付です（令和は2019年5月1日から）"),
    ("平成31年5月1日", "平成31年5月1日は存在しない日付です（平成は2019年4月30日まで）"),
    ("H32.1.1", "平成32年1月1日は存在しない日付です（平成は2019年4月30日まで）"),
    ("昭和64年1月8日", "昭和64年1月8日は存在しない日付です（昭和は1989年1月7日まで）"),
    ("平成元年1月7日", "平成元年1月7日は存在しない日付です（平成は1989年1月8日から）"),
    ("大正15年12月25日", "大正15年12月25日は存在しない日付です（大正は1926年12月24日まで）"),
    ("明治元年10月22日", "明治元年10月22日は存在しない日付です（明治は1868年10月23日から）"),
    ("令和5年2月29日", "令和5年2月29日は存在しない日付です"),
    ("令和0年5月1日", "令和0年5月1日は存在しない日付です"),
    ("1867-12-31", OUT_OF_RANGE),
    ("1868-10-22", OUT_OF_RANGE),
    ("2201-01-01", OUT_OF_RANGE),
    ("0001-01-01", OUT_OF_RANGE),
    ("令和183年1月1日", OUT_OF_RANGE),
    ("", BAD_DATE),
    ("   ", BAD_DATE),
    ("きのう", BAD_DATE),
    ("24/4/1", BAD_DATE),
    ("2024 4 1", BAD_DATE),
    ("2024-4", BAD_DATE),
    ("2024-04-01-01", BAD_DATE),
    ("X6.4.1", BAD_DATE),
    ("令和六年四月一日", BAD_DATE),
    ("202441", BAD_DATE),
]


@pytest.mark.parametrize(("text", "message"), REJECTED_DATES)
def test_parse_date_rejects_with_a_message_naming_the_problem(text, message):
    with pytest.raises(InputError) as caught:
        parse_date(text)
    assert str(caught.value) == message


FORMATTED_DATES = [
    (date(2024, 4, 1), "令和6年4月1日", "2024年4月1日", "2024年（令和6年）4月1日"),
    (date(2019, 5, 1), "令和元年5月1日", "2019年5月1日", "2019年（令和元年）5月1日"),
    (date(2019, 4, 30), "平成31年4月30日", "2019年4月30日", "2019年（平成31年）4月30日"),
    (date(1989, 1, 8), "平成元年1月8日", "1989年1月8日", "1989年（平成元年）1月8日"),
    (date(1989, 1, 7), "昭和64年1月7日", "1989年1月7日", "1989年（昭和64年）1月7日"),
    (date(1926, 12, 25), "昭和元年12月25日", "1926年12月25日", "1926年（昭和元年）12月25日"),
    (date(1926, 12, 24), "大正15年12月24日", "1926年12月24日", "1926年（大正15年）12月24日"),
    (date(1912, 7, 30), "大正元年7月30日", "1912年7月30日", "1912年（大正元年）7月30日"),
    (date(1912, 7, 29), "明治45年7月29日", "1912年7月29日", "1912年（明治45年）7月29日"),
    (date(1868, 10, 23), "明治元年10月23日", "1868年10月23日", "1868年（明治元年）10月23日"),
    (date(2200, 12, 31), "令和182年12月31日", "2200年12月31日", "2200年（令和182年）12月31日"),
]


@pytest.mark.parametrize(("d", "wareki", "seireki", "both"), FORMATTED_DATES)
def test_date_formats(d, wareki, seireki, both):
    assert format_wareki(d) == wareki
    assert format_seireki(d) == seireki
    assert format_both(d) == both


@pytest.mark.parametrize("d", [date(1868, 10, 22), date(1868, 1, 1), date(1800, 6, 1)])
def test_dates_before_meiji_have_no_wareki(d):
    with pytest.raises(ValueError):
        format_wareki(d)
    with pytest.raises(ValueError):
        format_both(d)


# --- Dates: properties ------------------------------------------------------------------------

DATES = st.dates(min_value=date(1868, 10, 23), max_value=date(2100, 12, 31))


@given(DATES)
def test_every_formatted_date_parses_back(d):
    for text in (format_wareki(d), format_seireki(d), d.isoformat()):
        assert parse_date(text) == d
        assert parse_date(jaconv.h2z(text, digit=True)) == d
        assert parse_date(jaconv.h2z(text, ascii=True, digit=True)) == d


@given(
    DATES,
    st.booleans(),
    st.booleans(),
    st.sampled_from([".", "/", *HYPHENS, "．", "／"]),
    st.booleans(),
)
def test_the_era_letter_form_parses_back(d, lower, zero_pad, separator, full_width):
    _, letter, year = era_year(d)
    width = 2 if zero_pad else 1
    text = separator.join(f"{part:0{width}d}" for part in (year, d.month, d.day))
    text = (letter.lower() if lower else letter) + text
    if full_width:
        text = jaconv.h2z(text, ascii=True, digit=True)
    assert parse_date(text) == d


@given(DATES)
def test_wareki_year_one_is_written_gannen(d):
    name, _, year = era_year(d)
    expected_year = "元" if year == 1 else str(year)
    assert format_wareki(d) == f"{name}{expected_year}年{d.month}月{d.day}日"


# --- Kana: examples ---------------------------------------------------------------------------

KATAKANA = [
    ("やまだ たろう", "ヤマダ タロウ"),
    ("ヤマダ　タロウ", "ヤマダ タロウ"),
    ("  やまだ\u3000\u3000 たろう  ", "ヤマダ タロウ"),
    ("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダ タロウ"),
    ("ｶﾞｷﾞｸﾞｹﾞｺﾞ ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "ガギグゲゴ パピプペポ"),
    ("ｳﾞｨｸﾄﾙ", "ヴィクトル"),
    ("ゔぃくとる", "ヴィクトル"),
    ("ｼﾞｪｰﾑｽﾞ･ﾎﾞﾝﾄﾞ", "ジェームズ・ボンド"),
    ("きゃっしゅ", "キャッシュ"),
    ("いすゞ", "イスヾ"),
    ("か\u3099き\u3099", "ガギ"),  # decomposed input composes, as NFKC would
    ("は\u309aン", "パン"),
    ("ﾜﾞ", "ヷ"),
    ("山田 たろう", "山田 タロウ"),
    ("神﨑", "神﨑"),  # compatibility kanji kept (NFKC would rewrite 神)
    ("Taro やまだ", "Taro ヤマダ"),
    ("Ｔａｒｏ", "Ｔａｒｏ"),
    ("１２３", "１２３"),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), KATAKANA)
def test_to_katakana(text, expected):
    assert to_katakana(text) == expected


KATAKANA_NAMES = [
    ("ヤマダ タロウ", True),
    ("ヴィクトル", True),
    ("ジェームズ・ボンド", True),
    ("キャッシュ", True),
    ("イスヾ", True),
    ("ヵヶ", True),
    ("ヤマダ", True),
    ("やまだ", False),
    ("ﾔﾏﾀﾞ", False),
    ("山田 タロウ", False),
    ("Yamada", False),
    ("ヤマダ  タロウ", False),
    ("ヤマダ\u3000タロウ", False),
    (" ヤマダ", False),
    ("ヤマダ ", False),
    ("ヤマダ1", False),
    ("カ\u3099", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "expected"), KATAKANA_NAMES)
def test_is_katakana_name(text, expected):
    assert is_katakana_name(text) is expected


# --- Kana: properties -------------------------------------------------------------------------

HIRAGANA = st.characters(min_codepoint=0x3041, max_codepoint=0x3096)
KANA_NOISE = st.sampled_from(list("かきアｶｷﾞﾟｳﾜ\u3099\u309a\u309b\uff9e\uff9f \u3000\t\nー･山A１"))


@given(st.text() | st.text(alphabet=HIRAGANA | KANA_NOISE | st.characters()))
def test_to_katakana_is_idempotent(text):
    once = to_katakana(text)
    assert to_katakana(once) == once


@given(st.text(alphabet=HIRAGANA, min_size=1))
def test_hiragana_becomes_jaconv_katakana_and_a_valid_name(text):
    result = to_katakana(text)
    assert result == jaconv.hira2kata(text)
    assert is_katakana_name(result)


@given(st.lists(st.text(alphabet=HIRAGANA, min_size=1), min_size=1, max_size=3))
def test_half_width_katakana_gives_the_same_as_full_width(words):
    full = jaconv.hira2kata(" ".join(words))
    half = jaconv.z2h(full, kana=True, ascii=False, digit=False)
    assert to_katakana(half) == to_katakana(full) == full
    assert is_katakana_name(to_katakana(half))


# --- Postal codes -----------------------------------------------------------------------------

POSTAL_CODES = [
    ("298-8501", "2988501"),
    ("2988501", "2988501"),
    ("〒298-8501", "2988501"),
    ("〒 298-8501", "2988501"),
    ("〒２９８－８５０１", "2988501"),
    ("２９８ー８５０１", "2988501"),
    ("298‐8501", "2988501"),
    ("298−8501", "2988501"),
    ("298―8501", "2988501"),
    (" 298 8501\u3000", "2988501"),
    ("100-0001", "1000001"),
]


@pytest.mark.parametrize(("text", "expected"), POSTAL_CODES)
def test_normalize_postal_code(text, expected):
    assert normalize_postal_code(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "298-850", "298-85011", "298-850a", "〒", "二九八-八五〇一", "298_8501", "298.8501"],
)
def test_normalize_postal_code_rejects(text):
    with pytest.raises(InputError) as caught:
        normalize_postal_code(text)
    assert str(caught.value) == BAD_POSTAL


def test_format_postal_code():
    assert format_postal_code("2988501") == "298-8501"
    assert format_postal_code("〒２９８８５０１") == "298-8501"
    with pytest.raises(InputError):
        format_postal_code("298850")


def widen(text: str, flags: list[bool]) -> str:
    """Make the characters whose flag is set full-width."""
    return "".join(
        jaconv.h2z(ch, ascii=True, digit=True) if wide else ch
        for ch, wide in zip(text, flags + [False] * len(text), strict=False)
    )


@given(
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.sampled_from(["", "〒", "〒 ", "〒\u3000"]),
    st.sampled_from(["", " ", *HYPHENS]),
    st.lists(st.booleans(), max_size=8),
    st.sampled_from(["", " ", "\u3000"]),
)
def test_formatted_postal_codes_normalize_back(digits, mark, separator, wide, padding):
    text = padding + mark + widen(digits[:3] + separator + digits[3:], wide) + padding
    assert normalize_postal_code(text) == digits


# --- Phone numbers ----------------------------------------------------------------------------

PHONES = [
    ("090-1234-5678", "09012345678"),
    ("08012345678", "08012345678"),
    ("070 1234 5678", "07012345678"),
    ("０９０－１２３４－５６７８", "09012345678"),
    ("090(1234)5678", "09012345678"),
    ("０９０（１２３４）５６７８", "09012345678"),
    ("050-1234-5678", "05012345678"),
    ("060-1234-5678", "06012345678"),
    ("0120-123-456", "0120123456"),
    ("0800-123-4567", "08001234567"),
    ("0470-62-1111", "0470621111"),
    ("(0470)62-1111", "0470621111"),
    ("03-1234-5678", "0312345678"),
    ("0570ー000ー111", "0570000111"),
    ("0470‐62‐1111", "0470621111"),
]


@pytest.mark.parametrize(("text", "expected"), PHONES)
def test_normalize_phone(text, expected):
    assert normalize_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1234567890",  # no leading 0
        "0012345678",  # second digit 0
        "090-1234-567",  # a mobile number missing a digit
        "0120-123-4567",  # free dial is 10 digits
        "0800-123-456",  # 0800 is 11 digits
        "0470-62-111",  # 9 digits
        "0470-62-11111",  # 11 digits, not a mobile prefix
        "030-1234-5678",  # 030 is not assigned
        "+81-90-1234-5678",
        "090-1234-567a",
    ],
)
def test_normalize_phone_rejects(text):
    with pytest.raises(InputError) as caught:
        normalize_phone(text)
    assert str(caught.value) == BAD_PHONE


@st.composite
def hyphenated_mobile_numbers(draw):
    digits = draw(st.sampled_from(["070", "080", "090"])) + draw(
        st.text(alphabet="0123456789", min_size=8, max_size=8)
    )
    style = draw(st.sampled_from(["plain", "groups", "parentheses"]))
    if style == "plain":
        text = digits
    elif style == "groups":
        first, second = draw(st.sampled_from(HYPHENS + [" "])), draw(st.sampled_from(HYPHENS))
        text = f"{digits[:3]}{first}{digits[3:7]}{second}{digits[7:]}"
    else:
        text = f"{digits[:3]}({digits[3:7]}){digits[7:]}"
    wide = draw(st.lists(st.booleans(), max_size=len(text)))
    return digits, widen(text, wide)


@given(hyphenated_mobile_numbers())
def test_hyphenated_mobile_numbers_normalize_back(case):
    digits, text = case
    assert normalize_phone(text) == digits


# --- My Number --------------------------------------------------------------------------------

# Weights of the 11 leading digits, left to right, from 施行規則 第5条 (Q_n counted from the right).
WEIGHTS = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2]


def remainder(first11: str) -> int:
    return sum(int(digit) * weight for digit, weight in zip(first11, WEIGHTS, strict=True)) % 11


CHECK_DIGITS = [
    ("12345678901", 8),  # 1234 5678 9018, the number used in official samples
    ("00000000000", 0),  # remainder 0
    ("00000000006", 0),  # remainder 1 also gives 0
    ("11111111111", 8),
    ("00000000001", 9),
    ("10000000000", 5),
    ("00000100000", 4),
    ("99999999999", 6),
]


@pytest.mark.parametrize(("first11", "expected"), CHECK_DIGITS)
def test_my_number_check_digit(first11, expected):
    assert my_number_check_digit(first11) == expected


@pytest.mark.parametrize(
    "first11", ["1234567890", "123456789012", "１２３４５６７８９０１", "1234567890a"]
)
def test_my_number_check_digit_needs_eleven_ascii_digits(first11):
    with pytest.raises(ValueError):
        my_number_check_digit(first11)


MY_NUMBERS = [
    ("123456789018", "123456789018"),
    ("1234 5678 9018", "123456789018"),
    ("1234-5678-9018", "123456789018"),
    ("１２３４　５６７８　９０１８", "123456789018"),
    ("1234ー5678ー9018", "123456789018"),
]


@pytest.mark.parametrize(("text", "expected"), MY_NUMBERS)
def test_parse_my_number(text, expected):
    assert normalize_my_number(text) == expected
    assert parse_my_number(text) == expected
    assert is_valid_my_number(text)


@pytest.mark.parametrize("text", ["", "12345678901", "1234567890189", "1234 5678 901a", "一二三"])
def test_my_number_must_have_twelve_digits(text):
    with pytest.raises(InputError) as caught:
        parse_my_number(text)
    assert str(caught.value) == BAD_MY_NUMBER
    assert not is_valid_my_number(text)


@pytest.mark.parametrize("text", ["123456789010", "123456789019", "213456789018"])
def test_wrong_check_digit_is_refused(text):
    assert normalize_my_number(text) == text
    with pytest.raises(InputError) as caught:
        parse_my_number(text)
    assert str(caught.value) == WRONG_MY_NUMBER
    assert not is_valid_my_number(text)


def test_mask_my_number():
    assert mask_my_number("123456789018") == "●●●● ●●●● 9018"
    assert mask_my_number("1234 5678 9018") == "●●●● ●●●● 9018"
    with pytest.raises(InputError):
        mask_my_number("9018")


ELEVEN_DIGITS = st.text(alphabet="0123456789", min_size=11, max_size=11)


@given(ELEVEN_DIGITS)
def test_check_digit_matches_the_formula_and_validates(first11):
    r = remainder(first11)
    assert my_number_check_digit(first11) == (0 if r <= 1 else 11 - r)
    assert is_valid_my_number(first11 + str(my_number_check_digit(first11)))


def test_a_single_digit_error_can_go_undetected():
    # Remainders 0 and 1 both give check digit 0, so a change that moves the remainder between
    # them keeps the number valid: the last digit has weight 2, and 2 * 6 = 12 ≡ 1 (mod 11).
    assert remainder("00000000000") == 0
    assert remainder("00000000006") == 1
    assert is_valid_my_number("000000000000")
    assert is_valid_my_number("000000000060")


@given(ELEVEN_DIGITS, st.integers(min_value=0, max_value=11), st.integers(min_value=1, max_value=9))
def test_single_digit_errors_are_detected_except_between_remainders_0_and_1(first11, at, shift):
    """Hypothesis refutes "every single-digit change is detected" (e.g. 064697054730 and
    064697051730 are both valid). The exact property: each weight is 2..7 and 11 is prime, so a
    changed leading digit always changes the remainder; the change goes unnoticed exactly when
    the remainder moves between 0 and 1, which both map to check digit 0. A changed check digit,
    and any change to a number whose check digit is not 0, is always detected."""
    number = first11 + str(my_number_check_digit(first11))
    changed = number[:at] + str((int(number[at]) + shift) % 10) + number[at + 1 :]
    assert changed != number
    if at == 11 or number[11] != "0":
        assert not is_valid_my_number(changed)
    else:
        assert remainder(changed[:11]) != remainder(first11)
        undetected = {remainder(first11), remainder(changed[:11])} == {0, 1}
        assert is_valid_my_number(changed) is undetected


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_mask_shows_only_the_last_four_digits(number):
    masked = mask_my_number(number)
    assert masked == "●●●● ●●●● " + number[-4:]
    assert not any(ch.isdigit() for ch in masked[:-4])


# --- Encryption at rest -----------------------------------------------------------------------

KEY = bytes(range(32))
KEYS = st.binary(min_size=32, max_size=32)


@given(st.text(), KEYS)
def test_encryption_round_trips(plaintext, key):
    token = encrypt_sensitive(plaintext, key)
    assert token.startswith("v1:")
    raw = base64.urlsafe_b64decode(token[3:])
    assert len(raw) == 12 + len(plaintext.encode("utf-8")) + 16  # nonce + ciphertext + tag
    assert decrypt_sensitive(token, key) == plaintext


@given(st.text(), KEYS)
def test_each_encryption_uses_a_fresh_nonce(plaintext, key):
    first, second = encrypt_sensitive(plaintext, key), encrypt_sensitive(plaintext, key)
    assert first != second
    assert base64.urlsafe_b64decode(first[3:])[:12] != base64.urlsafe_b64decode(second[3:])[:12]


def test_the_nonce_is_the_only_randomness(monkeypatch):
    monkeypatch.setattr(japanese.os, "urandom", lambda n: b"\x01" * n)
    assert encrypt_sensitive("123456789018", KEY) == encrypt_sensitive("123456789018", KEY)


@given(st.text(), KEYS, KEYS)
def test_a_wrong_key_fails_with_value_error(plaintext, key, other):
    if key == other:
        other = bytes(b ^ 1 for b in key)
    token = encrypt_sensitive(plaintext, key)
    with pytest.raises(ValueError, match="wrong key"):
        decrypt_sensitive(token, other)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "123456789018",
        "v2:" + base64.urlsafe_b64encode(b"\0" * 40).decode(),
        "v1:",
        "v1:AAAA",
        "v1:not base64!",
        "v1:" + base64.b64encode(b"\xfb\xff" * 20).decode(),  # standard, not URL-safe, base64
    ],
)
def test_malformed_tokens_fail_with_value_error(token):
    with pytest.raises(ValueError):
        decrypt_sensitive(token, KEY)


def test_a_tampered_token_fails_with_value_error():
    token = encrypt_sensitive("123456789018", KEY)
    raw = bytearray(base64.urlsafe_b64decode(token[3:]))
    raw[-1] ^= 1
    with pytest.raises(ValueError, match="wrong key"):
        decrypt_sensitive("v1:" + base64.urlsafe_b64encode(bytes(raw)).decode(), KEY)


@pytest.mark.parametrize("key", [b"", b"k" * 16, b"k" * 31, "k" * 32])
def test_keys_must_be_32_bytes(key):
    with pytest.raises(ValueError, match="32 bytes"):
        encrypt_sensitive("x", key)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00" * 32, b"\0" * 32),
        (KEY.hex(), KEY),
        (KEY.hex().upper(), KEY),
        (f"  {KEY.hex()}\n", KEY),
        (base64.urlsafe_b64encode(KEY).decode(), KEY),
        (base64.urlsafe_b64encode(KEY).decode().rstrip("="), KEY),
        (base64.urlsafe_b64encode(b"\xff" * 32).decode(), b"\xff" * 32),
    ],
)
def test_load_key(value, expected):
    assert load_key(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "00" * 31,
        "00" * 33,
        "zz" * 32,
        base64.urlsafe_b64encode(b"k" * 16).decode(),
        base64.urlsafe_b64encode(b"k" * 48).decode(),
        base64.b64encode(b"\xff" * 32).decode(),  # standard alphabet: + and /
        "correct horse battery staple",
    ],
)
def test_load_key_rejects_with_an_english_explanation(value):
    with pytest.raises(ValueError, match="64 hex characters or URL-safe base64 of 32 bytes"):
        load_key(value)


@given(KEYS)
def test_load_key_reads_both_encodings(key):
    assert load_key(key.hex()) == key
    assert load_key(base64.urlsafe_b64encode(key).decode()) == key
