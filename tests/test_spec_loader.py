"""The loader: positions of keys and values, and every kind of YAML a spec must not be."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_gen.errors import Problem
from mlops_gen.spec.loader import MAX_SPEC_BYTES, LoadedSpec, load_file, load_text


def loaded(text: str) -> LoadedSpec:
    result = load_text(text, "spec.yaml")
    assert isinstance(result, LoadedSpec), result
    return result


def problem(text: str) -> Problem:
    result = load_text(text, "spec.yaml")
    assert isinstance(result, Problem), result
    return result


def test_positions_of_keys_and_values_are_one_based() -> None:
    spec = loaded("model:\n  name: churn\nenvironments:\n  - name: staging\n    target: aks\n")
    assert spec.key_positions[("model", "name")] == (2, 3)
    assert spec.value_positions[("model", "name")] == (2, 9)
    assert spec.key_positions[("environments", 0, "target")] == (5, 5)
    assert spec.value_positions[("environments", 0)] == (4, 5)


def test_position_falls_back_to_nearest_ancestor() -> None:
    spec = loaded("model:\n  name: churn\n")
    assert spec.position(("model", "missing", "deeper")) == (2, 3)  # the 'model' mapping itself
    assert spec.position(("model", "name", "x")) == (2, 9)
    assert spec.position(("nowhere",)) == (1, 1)


def test_duplicate_key_names_both_lines() -> None:
    found = problem("model:\n  name: a\n  name: b\n")
    assert (found.line, found.column, found.path) == (3, 3, "model.name")
    assert "duplicate key 'name' (first defined on line 2)" in found.message


def test_several_documents_are_rejected_at_the_second() -> None:
    found = problem("a: 1\n---\nb: 2\n")
    assert found.line == 3 and "several YAML documents" in found.message


@pytest.mark.parametrize(("text", "reason"), [
    ("", "file is empty"),
    ("# only a comment\n", "file is empty"),
    ("- a\n- b\n", "not a list"),
    ("just text\n", "not a single value"),
    ("a:\n\tb: 1\n", "tabs cannot indent YAML"),
    ("a: [1, 2\n", "invalid YAML"),
    ("<<: {a: 1}\n", "merge keys"),
    ("? [a, b]\n: 1\n", "keys must be strings"),
    ("1: one\n", "keys must be strings"),
    ("a: \x00\n", "invalid YAML"),
])
def test_malformed_documents_get_one_positioned_reason(text: str, reason: str) -> None:
    found = problem(text)
    assert reason in found.message
    assert found.line >= 1 and found.column >= 1


def test_alias_expansion_is_bounded() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for previous, name in zip("abcdefg", "bcdefgh", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
    found = problem("\n".join(lines) + "\n")
    assert "expands to more than" in found.message


def test_recursive_alias_is_rejected() -> None:
    assert "nesting deeper than" in problem("a: &x [*x]\n").message


def test_small_aliases_are_fine() -> None:
    spec = loaded("base: &b {x: 1}\nother: *b\n")
    assert spec.data == {"base": {"x": 1}, "other": {"x": 1}}


def test_bom_is_accepted_and_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    result = load_file(path)
    assert isinstance(result, LoadedSpec) and result.data == {"a": 1}


def test_invalid_utf8_points_at_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    result = load_file(path)
    assert isinstance(result, Problem)
    assert (result.line, result.column) == (2, 7) and "not valid UTF-8" in result.message


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"a: " + b"x" * (MAX_SPEC_BYTES + 1) + b"\n")
    result = load_file(path)
    assert isinstance(result, Problem) and "at most" in result.message


def test_unreadable_path_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    result = load_file(tmp_path / "absent.yaml")
    assert isinstance(result, Problem) and "cannot read" in result.message
