"""`json_block` (mlops_gen/render/filters.py), the writer of each model's config/plan.json in the monorepo layout:
valid JSON that loads back to the data, keys in insertion order, and what fits in the width on one line."""

from __future__ import annotations

import json
import math

import pytest

from mlops_gen.render.filters import json_block

VALUES = [
    {},
    [],
    {"a": 1, "b": [True, False, None], "c": 0.85, "d": -3},
    {"é ü": "\U0001F600 \x85 \u2028 \t \"quoted\" \\ /", "": ""},
    [[[[{"deep": ["x" * 120]}]]]],
    {"args": [{"--need": "training"}, {"--data-path": {"ref": "data_path"}}], "text": "word " * 40},
    {"n": 10**20, "f": 1e-07, "g": 25000.0},
]


@pytest.mark.parametrize("value", VALUES)
def test_it_loads_back_to_the_same_data_in_the_same_key_order(value: object) -> None:
    text = json_block(value)
    assert text.endswith("\n") and not text.endswith("\n\n")
    loaded = json.loads(text)
    assert loaded == value
    assert json.dumps(loaded) == json.dumps(value)  # insertion order kept (dict equality ignores it)


@pytest.mark.parametrize("value", VALUES)
def test_it_writes_what_json_dumps_writes_once_the_layout_is_taken_away(value: object) -> None:
    assert json.dumps(json.loads(json_block(value)), ensure_ascii=False) == json.dumps(value, ensure_ascii=False)
    # the same tokens: only whitespace between them differs from the standard library's own indented output
    assert "".join(json_block(value).split()) == "".join(json.dumps(value, indent=2, ensure_ascii=False).split())


def test_what_fits_in_the_width_stays_on_one_line_and_the_rest_goes_item_by_item() -> None:
    step = {"id": "train", "args": [{"--need": "training"}, {"--data-path": {"ref": "data_path"}}],
            "name": "Submit the training job, with a name long enough to need a line of its own here"}
    assert json_block({"steps": [step]}) == (
        '{\n'
        '  "steps": [\n'
        '    {\n'
        '      "id": "train",\n'
        '      "args": [{"--need": "training"}, {"--data-path": {"ref": "data_path"}}],\n'
        '      "name": "Submit the training job, with a name long enough to need a line of its own here"\n'
        '    }\n'
        '  ]\n'
        '}\n')


def test_the_width_counts_the_indent_and_the_key() -> None:
    # 100 columns exactly fit; one more breaks the mapping up
    for extra, lines in ((0, 1), (1, 3)):
        value = {"k": "v" * (100 - len('{"k": ""}') + extra)}
        assert len(json_block(value).splitlines()) == lines
    nested = {"key": {"a": "x" * 82}, "more": "x" * 20}  # 91 columns after `  "key": ` (9), and a comma: 101
    assert json_block(nested).splitlines()[1] == '  "key": {'
    nested = {"key": {"a": "x" * 81}, "more": "x" * 20}  # 100 with the comma: fits
    assert json_block(nested).splitlines()[1] == '  "key": {"a": "' + "x" * 81 + '"},'
    nested = {"more": "x" * 20, "key": {"a": "x" * 82}}  # the last item has no comma: 100, fits
    assert json_block(nested).splitlines()[2] == '  "key": {"a": "' + "x" * 82 + '"}'


def test_no_line_is_longer_than_the_width_unless_one_value_alone_is() -> None:
    value = {"stages": [{"id": f"s{i}", "args": [{"--flag": "v" * i} for i in range(0, 120, 7)]} for i in range(3)]}
    for line in json_block(value).splitlines():
        assert len(line) <= 100 or line.count('"--flag"') == 1, line  # one item too long alone: its own line


def test_short_lists_and_mappings_are_not_broken_up_when_empty_or_small() -> None:
    assert json_block({"secrets": [], "vars": {}, "list": ["A", "B"]}) == (
        '{"secrets": [], "vars": {}, "list": ["A", "B"]}\n')


@pytest.mark.parametrize("value", [{"k": math.nan}, {"k": math.inf}, {"k": object()}, {1: "int key"}])
def test_what_json_cannot_hold_is_refused_not_written(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        json_block(value)
