"""SharedJSON (decision 0061): one parsed value per distinct stored text, found without hashing
the text (decision 0095): texts of one length are told apart by their content."""

from __future__ import annotations

from sqlalchemy.dialects import sqlite

from portal.db import SharedJSON


def test_one_parsed_value_per_text_and_texts_of_one_length_kept_apart():
    shared = SharedJSON()
    dialect = sqlite.dialect()
    process = shared.dialect_impl(dialect).result_processor(dialect, None)
    first, other = '{"procedure": "a"}', '{"procedure": "b"}'
    assert len(first) == len(other)
    a = process(first)
    b = process(other)
    assert a == {"procedure": "a"} and b == {"procedure": "b"}
    assert process("".join(list(first))) is a  # a new string of the same text: the same value
    assert process("".join(list(other))) is b
    assert process(None) is None


def test_the_kept_values_are_bounded():
    dialect = sqlite.dialect()
    impl = SharedJSON().dialect_impl(dialect)
    process = impl.result_processor(dialect, None)
    values = [process(f'{{"n": "{n:03d}"}}') for n in range(SharedJSON.LIMIT * 3)]
    assert [v["n"] for v in values] == [f"{n:03d}" for n in range(SharedJSON.LIMIT * 3)]
    assert 0 < sum(len(texts) for texts in impl._parsed.values()) <= SharedJSON.LIMIT
