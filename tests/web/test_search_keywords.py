"""Search by everyday words and readings (issue 22): the catalog's keywords are searched, so a
resident who types 引越し, ひっこし, 出産, 印鑑証明, 赤ちゃん or 亡くなった finds the procedures."""

from __future__ import annotations

import pytest

from tests.conftest import check_page

# word -> procedures it must find (among others it may find)
EXPECTED = {
    "引越し": {"tenshutsu", "tennyu-yoyaku", "tenkyo-todoke", "tennyu-todoke"},
    "引っ越し": {"tenshutsu", "tennyu-yoyaku"},
    "ひっこし": {"tenshutsu", "tennyu-yoyaku", "tenkyo-todoke", "tennyu-todoke"},
    "ヒッコシ": {"tenshutsu", "tennyu-yoyaku"},
    "出産": {"ninshin-todoke", "shussei-todoke", "jidoteate-nintei"},
    "印鑑証明": {"inkan-toroku"},
    "いんかんしょうめい": {"inkan-toroku"},
    "赤ちゃん": {"ninshin-todoke", "shussei-todoke", "jidoteate-nintei", "kodomo-iryohi"},
    "あかちゃん": {"ninshin-todoke", "shussei-todoke"},
    "亡くなった": {"shibo-todoke", "maiso-kyoka", "sosaihi-kokuho", "sosaihi-koki"},
    "なくなった": {"shibo-todoke", "maiso-kyoka"},
    "保育園": {"hoiku-riyou", "kyufu-nintei"},
    "結婚": {"konin-todoke"},
}


def _found(client, query: str) -> set[str]:
    page = check_page(client.get("/", query_string={"q": query}))
    links = page.select(".card-list .card__title a")
    return {a["href"].rstrip("/").split("/")[-1] for a in links}


@pytest.mark.parametrize("word", sorted(EXPECTED))
def test_an_everyday_word_finds_the_procedures(client, word):
    found = _found(client, word)
    assert EXPECTED[word] <= found, f"{word}: missing {sorted(EXPECTED[word] - found)}"


def test_a_word_finds_only_what_it_is_about(client):
    assert "juminhyo-copy" not in _found(client, "赤ちゃん")
    assert "tenshutsu" not in _found(client, "亡くなった")
    assert _found(client, "印鑑証明") == {"inkan-toroku"}
