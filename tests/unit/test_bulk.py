"""bulk.JSONTemplate writes what json.dumps writes, encoding only the holes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ballot.bulk import JSONTemplate, JSONText


@pytest.mark.parametrize("name", ["Ada Lovelace", "", 'Quote " and \\ back', "Zoë 名前 \u2028", "\0name"])
@pytest.mark.parametrize("right", [1, 2**31 - 1])
def test_filled_template_is_the_json_of_the_whole_value(name, right):
    def context(name, right):
        return {"name": name, "title": "Charter", "capacity": "a Fellow",
                "link": {"signed_link": {"payload": {"v": 7, "r": right}, "expires_at": None, "values": {}}}}

    filled = JSONTemplate(context("\0N", "\0R"), "\0N", "\0R").fill(name, right)

    assert isinstance(filled, JSONText)
    assert filled == json.dumps(context(name, right))
    assert json.loads(filled) == context(name, right)


def test_a_placeholder_must_appear_once():
    with pytest.raises(ValueError, match="exactly once"):
        JSONTemplate({"a": "\0x", "b": "\0x"}, "\0x")
    with pytest.raises(ValueError, match="exactly once"):
        JSONTemplate({"a": 1}, "\0x")


@given(name=st.text(), right=st.integers())
def test_filled_holes_are_written_as_json_dumps_writes_them(name, right):
    # Text and whole numbers go the direct way (bulk._encode_hole); the whole must still be json.dumps's.
    template = JSONTemplate({"name": "\0N", "link": {"r": "\0R"}}, "\0N", "\0R")

    assert template.fill(name, right) == json.dumps({"name": name, "link": {"r": right}})


@pytest.mark.parametrize("value", [True, None, 2.5, ["a", 1], {"k": "v"}])
def test_other_values_in_a_hole_are_written_by_json_dumps(value):
    assert JSONTemplate({"x": "\0X"}, "\0X").fill(value) == json.dumps({"x": value})
