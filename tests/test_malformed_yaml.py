"""Malformed and hostile YAML through the real CLI: one positioned line, exit 2, no traceback, nothing written.

Each case runs `python -m mlops_gen validate FILE` and `generate FILE -o OUT` in a subprocess, measuring the
child's own peak memory with os.wait4. Time and memory bounds are generous safety nets against blow-ups (an
exponential alias expansion takes minutes and gigabytes), not performance assertions; the measured figures are
printed (`pytest -s`).
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops_gen.errors import Problem
from mlops_gen.spec.loader import MAX_SPEC_BYTES, LoadedSpec, load_file, load_text
from mlops_gen.spec.validate import validate_loaded

VALID = (
    "apiVersion: mlops-gen/v1\n"
    "kind: ModelPipeline\n"
    "model:\n"
    "  name: churn-model\n"
    "  description: Predicts churn\n"
    "environments:\n"
    "  - name: staging\n"
)
SAFETY_SECONDS = 5.0  # a bomb that is not defused takes minutes; a defused one ~0.2 s including start-up
SAFETY_RSS_KIB = 300 * 1024  # start-up is ~35 MiB; an expanded bomb is gigabytes


def _bomb(levels: int = 9, width: int = 9) -> bytes:
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return ("\n".join(lines) + "\n").encode()


def _deep_block_mappings(levels: int) -> bytes:
    return ("".join(" " * i + f"k{i}:\n" for i in range(levels)) + " " * levels + "v\n").encode()


@dataclass(frozen=True)
class Case:
    content: bytes
    reason: str  # a fragment the one-line message must contain
    where: tuple[int, int] | None = None  # expected LINE:COL of the first problem, when it is meaningful


_rng = random.Random(20261127)  # fixed seed: the same "random" garbage on every run
CASES: dict[str, Case] = {
    "truncated-in-string": Case(VALID.encode()[:75] + b'"unterminated', "invalid YAML"),
    "truncated-in-flow": Case(VALID.encode() + b"platforms: [azure_devops, github_", "invalid YAML"),
    "truncated-mid-key": Case(VALID.encode()[:-10], "", None),
    "tab-indentation": Case(b"apiVersion: mlops-gen/v1\nmodel:\n\tname: churn\n", "tabs cannot indent YAML", (3, 1)),
    "alias-bomb": Case(_bomb(), "expands to more than"),
    "alias-bomb-wide": Case(_bomb(levels=6, width=40), "expands to more than"),
    "recursive-alias": Case(b"model: &m {name: *m}\n", "nesting deeper than"),
    "deep-flow-sequences": Case(b"[" * 10_000 + b"]" * 10_000 + b"\n", "nesting"),
    "deep-flow-mappings": Case(b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n", "nesting"),
    "deep-block-sequences": Case(b"- " * 10_000 + b"x\n", "nesting"),
    # 10 000 levels of block mappings need 50 MB of indentation: refused by size before parsing.
    "deep-block-mappings-10000": Case(_deep_block_mappings(10_000), "a spec may be at most", (1, 1)),
    "deep-block-mappings-500": Case(_deep_block_mappings(500), "nesting deeper than"),
    "ten-megabytes": Case(b"a: " + b"x" * (10 * 1024 * 1024) + b"\n", "a spec may be at most", (1, 1)),
    "many-nodes-flow": Case(b"a: [" + b"1," * (MAX_SPEC_BYTES // 2 - 8) + b"1]\n", "more than 20000 nodes"),
    "many-nodes-block": Case(b"".join(b"k%d: 1\n" % i for i in range(60_000)), "more than 20000 nodes"),
    "invalid-utf8": Case(VALID.encode().replace(b"Predicts", b"Pr\xe9dicts"), "not valid UTF-8", (5, 18)),
    "utf16": Case(VALID.encode("utf-16"), "not valid UTF-8", (1, 1)),
    "bom-then-garbage": Case(b"\xef\xbb\xbfapiVersion: mlops-gen/v1\nkind: [\n", "invalid YAML"),
    "duplicate-keys": Case(VALID.encode() + b"model:\n  name: other\n", "duplicate key 'model'", (8, 1)),
    "several-documents": Case(VALID.encode() + b"---\n" + VALID.encode(), "several YAML documents", (9, 1)),
    "broken-second-document": Case(VALID.encode() + b"---\n: : [\n", "several YAML documents"),
    "empty": Case(b"", "file is empty", (1, 1)),
    "whitespace-only": Case(b"\n   \n\n", "file is empty", (1, 1)),
    "comment-only": Case(b"# nothing here\n", "file is empty", (1, 1)),
    "top-level-list": Case(b"- apiVersion: mlops-gen/v1\n- kind: ModelPipeline\n", "not a list", (1, 1)),
    "top-level-scalar": Case(b"just some words\n", "not a single value", (1, 1)),
    "binary-garbage": Case(bytes(_rng.randrange(256) for _ in range(4096)), "not valid UTF-8"),
    "png-header": Case(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not valid UTF-8", (1, 1)),
    "utf8-garbage": Case("".join(chr(_rng.randrange(1, 0x2FF)) for _ in range(2000)).encode(), ""),
    "nul-byte": Case(VALID.encode().replace(b"Predicts", b"Pre\x00dicts"), "control characters", (5, 19)),
    "integer-key": Case(VALID.encode() + b"1: one\n", "keys must be strings", (8, 1)),
    "boolean-key": Case(VALID.encode() + b"on: push\n", "keys must be strings", (8, 1)),
    "null-key": Case(VALID.encode() + b"~: x\n", "keys must be strings", (8, 1)),
    "collection-key": Case(VALID.encode() + b"? [a, b]\n: 1\n", "keys must be strings", (8, 3)),
    "merge-key": Case(b"base: &b {name: churn-model}\nmodel:\n  <<: *b\n", "merge keys", (3, 3)),
    "python-tag": Case(b"model: !!python/object/apply:os.system ['echo pwned']\n", "not supported", (1, 8)),
    "custom-tag": Case(VALID.encode().replace(b"Predicts churn", b"!vault secret"), "not supported", (5, 16)),
    "binary-tag": Case(VALID.encode() + b"x: !!binary aGVsbG8=\n", "not supported", (8, 4)),
    "bad-timestamp": Case(VALID.encode() + b"x: !!timestamp yesterday\n", "not a valid YAML timestamp", (8, 4)),
    "bad-bool": Case(VALID.encode() + b"x: !!bool maybe\n", "not a valid YAML bool", (8, 4)),
    "impossible-date": Case(VALID.encode() + b"x: 2024-13-45\n", "month must be in 1..12", (8, 4)),
    "huge-integer": Case(VALID.encode() + b"x: " + b"9" * 5000 + b"\n", "not a valid YAML int", (8, 4)),
    "nan": Case(VALID.encode() + b"quality_gates: {metrics: {mae: {max: .nan}}}\n", "not a finite number"),
    "infinity": Case(VALID.encode() + b"quality_gates: {metrics: {mae: {max: .inf}}}\n", "not a finite number"),
    "undefined-alias": Case(VALID.encode() + b"x: *nowhere\n", "refers to no anchor", (8, 4)),
}
LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): \S.*$")


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_kib: int


# `python -m mlops_gen`, plus a report of the process's own peak memory: VmHWM belongs to the address space
# created by exec, whereas ru_maxrss would carry over the peak of the forking pytest process.
_MEASURED_MAIN = """
import atexit, os, runpy, sys

def _report_peak():
    with open("/proc/self/status") as status, open(os.environ["MLOPS_TEST_PEAK_FILE"], "w") as out:
        out.write(next((l.split()[1] for l in status if l.startswith("VmHWM:")), "0"))

if os.path.exists("/proc/self/status"):
    atexit.register(_report_peak)
runpy.run_module("mlops_gen", run_name="__main__", alter_sys=True)
"""


def run_cli(args: list[str], cwd: Path) -> Outcome:
    """Run `python -m mlops_gen ARGS` in a subprocess; peak memory is 0 where /proc is missing."""
    peak = cwd / ".peak"
    started = time.perf_counter()
    process = subprocess.run([sys.executable, "-c", _MEASURED_MAIN, *args], cwd=cwd, capture_output=True,
                             text=True, errors="replace", timeout=120,
                             env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "MLOPS_TEST_PEAK_FILE": str(peak)})
    seconds = time.perf_counter() - started
    peak_kib = int(peak.read_text() or 0) if peak.exists() else 0
    peak.unlink(missing_ok=True)
    return Outcome(process.returncode, process.stdout, process.stderr, seconds, peak_kib)


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def assert_one_positioned_reason(outcome: Outcome, file: str, case: Case) -> None:
    assert outcome.code == 2, outcome
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert "internal error" not in outcome.stderr
    lines = outcome.stderr.splitlines()
    assert lines, "an error must say why"
    for line in lines:
        match = LINE.match(line)
        assert match, f"not FILE:LINE:COL: reason: {line!r}"
        assert match["file"] == file
    assert case.reason in outcome.stderr
    if case.where is not None:
        first = LINE.match(lines[0])
        assert first is not None
        assert (int(first["line"]), int(first["col"])) == case.where, lines[0]
    assert outcome.seconds < SAFETY_SECONDS, f"took {outcome.seconds:.2f} s"
    assert outcome.max_rss_kib < SAFETY_RSS_KIB, f"peak memory {outcome.max_rss_kib} KiB"


@pytest.mark.parametrize("name", sorted(CASES))
def test_malformed_file_is_one_positioned_error_and_writes_nothing(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    file = f"{name}.yaml"
    (tmp_path / file).write_bytes(case.content)
    before = tree(tmp_path)

    checked = run_cli(["validate", file], tmp_path)
    assert_one_positioned_reason(checked, file, case)
    assert checked.stdout == ""

    generated = run_cli(["generate", file, "-o", "out"], tmp_path)
    assert_one_positioned_reason(generated, file, case)
    assert tree(tmp_path) == before, "generate wrote something for an invalid spec"
    print(f"{name}: validate {checked.seconds:.2f} s {checked.max_rss_kib // 1024} MiB, "
          f"generate {generated.seconds:.2f} s {generated.max_rss_kib // 1024} MiB")


def test_alias_bomb_is_refused_quickly_in_process() -> None:
    """Loader cost alone, without interpreter start-up: the classic 9^9 bomb is refused in milliseconds."""
    started = time.perf_counter()
    found = load_text(_bomb().decode(), "bomb.yaml")
    elapsed = time.perf_counter() - started
    print(f"alias bomb refused in {elapsed * 1000:.1f} ms")
    assert isinstance(found, Problem) and "expands to more than" in found.message
    assert elapsed < SAFETY_SECONDS


def test_bom_spec_that_is_otherwise_valid_validates_and_generates(tmp_path: Path) -> None:
    """A UTF-8 BOM is legal YAML (Windows editors write it): accepted, and it changes nothing but the spec hash."""
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    (tmp_path / "plain.yaml").write_bytes(VALID.encode())
    checked = run_cli(["validate", "bom.yaml"], tmp_path)
    assert checked.code == 0, checked
    assert checked.stdout == "bom.yaml: ok (churn-model)\n"
    with_bom = run_cli(["generate", "bom.yaml", "-o", "bom"], tmp_path)
    without = run_cli(["generate", "plain.yaml", "-o", "plain"], tmp_path)
    assert with_bom.code == without.code, (with_bom, without)
    assert "Traceback" not in with_bom.stderr
    if without.code == 0:
        assert tree(tmp_path / "bom") == tree(tmp_path / "plain")
    assert load_file(tmp_path / "bom.yaml").data == load_file(tmp_path / "plain.yaml").data  # type: ignore[union-attr]


def test_bom_does_not_shift_positions(tmp_path: Path) -> None:
    """The BOM is dropped before parsing, so columns on line 1 count characters the user sees."""
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbfapiVersion: mlops-gen/v2\nkind: ModelPipeline\n")
    checked = run_cli(["validate", "bom.yaml"], tmp_path)
    assert checked.code == 2
    assert "bom.yaml:1:13: apiVersion:" in checked.stderr


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    spec = VALID.replace("churn-model", "Churn_Model").replace("staging", "Staging")
    (tmp_path / "two.yaml").write_text(spec)
    checked = run_cli(["validate", "two.yaml"], tmp_path)
    assert checked.code == 2
    assert [line.split(": ")[1] for line in checked.stderr.splitlines()] == ["model.name", "environments[0].name"]


# In-process fuzzing of the loader and validator: whatever the bytes, the answer is data or a Problem.

@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=512))
def test_loader_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".yaml") as handle:
        handle.write(data)
        handle.flush()
        result = load_file(Path(handle.name), "fuzz.yaml")
    assert isinstance(result, (LoadedSpec, Problem))
    if isinstance(result, LoadedSpec):
        validated = validate_loaded(result)
        assert not isinstance(validated, list) or all(isinstance(p, Problem) for p in validated)


_yaml_ish = st.text(alphabet=st.sampled_from(list("ab:-[]{},&*!|>'\"#?%@`~ \n\t\\0.e+")), max_size=200)


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_yaml_ish)
def test_loader_never_raises_on_yaml_like_text(text: str) -> None:
    result = load_text(text, "fuzz.yaml")
    assert isinstance(result, (LoadedSpec, Problem))
    if isinstance(result, Problem):
        assert result.line >= 1 and result.column >= 1 and result.message
    else:
        validated = validate_loaded(result)
        assert not isinstance(validated, list) or all(isinstance(p, Problem) for p in validated)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(max_size=300))
def test_loader_never_raises_on_arbitrary_unicode_spliced_into_a_spec(text: str) -> None:
    for spliced in (VALID.replace("Predicts churn", text), VALID + text, text + VALID):
        result = load_text(spliced, "fuzz.yaml")
        assert isinstance(result, (LoadedSpec, Problem))
        if isinstance(result, LoadedSpec):
            validated = validate_loaded(result)
            assert not isinstance(validated, list) or all(isinstance(p, Problem) for p in validated)
