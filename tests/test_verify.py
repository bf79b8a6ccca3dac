"""The parse-back check of rendered files: its verdict on YAML must be exactly a full `yaml.load_all`'s.

check_yaml reads libyaml's parser events and hands anything it cannot judge to the full load; these tests hold
it to the full load's verdict on hand-picked corner cases, on random mutations of a real generated pipeline, and
on random documents built from risky fragments.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops_gen.render import verify as verify_module
from mlops_gen.render.verify import check_yaml, verify
from tests.conftest import ROOT

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def full_load_fails(text: str) -> bool:
    try:
        for _ in yaml.load_all(text, Loader=LOADER):
            pass
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return True
    return False


def fast_check_fails(text: str) -> bool:
    try:
        check_yaml(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        return True
    return False


CORNER_CASES = [
    "a: 1\n",
    "a: 2026-02-30\n",  # resolves to a timestamp that cannot be constructed
    "a: 2026-02-28\n",
    "a: 2026-02-28 25:61:00\n",
    "- 0x1G\n",  # not an int: a str
    "- 0b102\n",
    "- 1_000\n",
    "- 190:20:30\n",
    "- .inf\n- -.Inf\n- .nan\n",
    "- 1e400\n",
    "a: =\n",  # the value tag: SafeConstructor has no constructor for it
    "<<: {a: 1}\nb: 2\n",
    "<<: 3\n",  # merge of a scalar
    "a: &x 1\nb: *x\n",
    "a: *undefined\n",
    "? [1, 2]\n: x\n",  # a sequence as a mapping key
    "? {a: 1}\n: x\n",
    "a: !!int '12'\n",
    "a: !!int 'twelve'\n",
    "a: !custom x\n",
    "a: !!binary aGVsbG8=\n",
    "a: !!binary '%%%'\n",
    "a: ! 12\n",
    "a: b: c\n",
    "a:\n  - b\n c: d\n",
    "a: 'unterminated\n",
    "a: \"\\x\"\n",
    "key: [a, b\n",
    "---\na: 1\n---\nb: 2026-13-01\n",
    "---\na: 1\n...\n---\n- x\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: |\n  block 2026-02-30\n",
    "a: '2026-02-30'\n",
    "",
    "# only a comment\n",
    "{a: 1, b: [2, 3], c: {d: 2026-02-30}}\n",
    "- ~\n- null\n- yes\n- No\n- +12\n- -0.5\n- .5\n",
]


@pytest.mark.parametrize("text", CORNER_CASES)
def test_corner_cases_get_the_full_loads_verdict(text: str) -> None:
    assert fast_check_fails(text) == full_load_fails(text), text


def generated_pipeline() -> str:
    return (ROOT / "generated" / "customer-churn" / "azure-pipelines" / "training.yml").read_text(encoding="utf-8")


def test_mutations_of_a_real_pipeline_get_the_full_loads_verdict() -> None:
    text = generated_pipeline()
    pieces = [" ", "\n", ":", "- ", "'", '"', "{", "[", "]", "}", "&a ", "*a", "!!int ", "2026-02-30", "<<: ",
              "? ", "\t", "#", "=", "0x", "1e9", "|", ">"]
    rng = random.Random(20261127)  # fixed: the same mutations every run
    verdicts = set()
    for _ in range(400):
        position = rng.randrange(len(text))
        cut = rng.randrange(0, 4)
        mutated = text[:position] + rng.choice(pieces) + text[position + cut:]
        expected = full_load_fails(mutated)
        verdicts.add(expected)
        assert fast_check_fails(mutated) == expected, (position, cut)
    assert verdicts == {True, False}  # the mutations exercised both verdicts


FRAGMENTS = ["a", "b", "1", "0o17", "2026-02-30", "2026-02-28", "=", "<<", ".5", "-", "&x", "*x", "!!str", "'q'",
             "[]", "{}", "~", "1:30", "0x1F", "+1", "1e5"]


@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from(FRAGMENTS), st.sampled_from(FRAGMENTS)),
                min_size=1, max_size=8))
def test_random_documents_get_the_full_loads_verdict(lines: list[tuple[int, str, str]]) -> None:
    text = "".join(f"{'  ' * depth}{key}: {value}\n" for depth, key, value in lines)
    assert fast_check_fails(text) == full_load_fails(text)


def test_an_ordinary_pipeline_is_judged_without_the_full_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the event check: the slow full load runs only for what the events cannot settle."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("full load used")

    monkeypatch.setattr(verify_module.yaml, "load_all", refuse)
    check_yaml(generated_pipeline())
    with pytest.raises(AssertionError, match="full load used"):
        check_yaml("a: &anchor 1\n")


@pytest.mark.parametrize(("path", "text"), [
    ("x.yml", "a: [1\n"),
    ("x.json", "{\"a\": }"),
    ("x.py", "def f(:\n"),
])
def test_verify_names_the_file_that_does_not_parse(path: str, text: str) -> None:
    with pytest.raises(RuntimeError, match=f"rendered {path} does not parse"):
        verify(path, text)


def test_verify_accepts_what_parses_and_ignores_other_suffixes(tmp_path: Path) -> None:
    verify("x.yml", "a: 1\n")
    verify("x.py", "x = 1\n")
    verify("x.json", "{}")
    verify("x.txt", "anything: [\n")


@pytest.mark.parametrize("path", ["a/b.py", ".gitignore", "Dockerfile", "a.", "x/.a.b", "a/b/c.tar.gz", "..x",
                                  "x.y.", "src/.amlignore", "README.md"])
def test_name_and_suffix_agree_with_pathlib(path: str) -> None:
    """verify() and the headers pick the language by suffix without building path objects; same answers."""
    from pathlib import PurePosixPath

    from mlops_gen.output.paths import name_and_suffix

    assert name_and_suffix(path) == (PurePosixPath(path).name, PurePosixPath(path).suffix)


@settings(max_examples=1500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=140))
def test_config_yaml_bytes_do_not_depend_on_libyaml(text: str) -> None:
    """yaml_block writes what PyYAML's pure-Python safe_dump writes, whether or not libyaml is used: the generated
    config/pipeline.yaml must be the same bytes on every machine. (The emitters also differ on keys of over 128
    non-ASCII bytes, which pipeline settings never have.)"""
    from mlops_gen.render.filters import yaml_block

    # Keys are the planner's own identifiers and metric names; the spec's free text arrives as values.
    data = {"model": {"description": text, "owners": [text, "a@b.c"]}, "gates": {"accuracy": {"min": 0.85}},
            "notes": [text * 3, 1, 0.5, None, True]}
    reference = yaml.dump(data, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True, width=100)
    assert yaml_block(data) == reference
