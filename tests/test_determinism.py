"""Output is byte-deterministic and self-describing.

The CLI renders every example and corpus spec in separate processes with different PYTHONHASHSEED values, working
directories, spec path spellings (relative, absolute) and output directories; the trees must be identical byte for
byte (and in their executable bits). The trees are then scanned for what would make them differ between machines
or days: absolute paths, timestamps, tool versions, CR line ends, a missing or doubled final newline, and a missing
generated-file marker.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_gen import __version__
from mlops_gen.render.render import shown_path
from mlops_gen.spec.validate import load_specs
from tests.conftest import CORPUS, ROOT

# Files whose format has no comment syntax: the renderer adds no marker to them.
UNMARKED_SUFFIXES = (".json", ".csv")
MANIFEST_DIR = ".mlops-gen"


def _corpus_specs() -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in sorted(CORPUS.glob("*.yaml"))]


def _generate(cwd: Path, specs: list[str], out: Path | str, seed: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PYTHONHASHSEED"] = seed
    env["PYTHONPATH"] = str(ROOT)  # the checkout under test, wherever the process runs
    result = subprocess.run([sys.executable, "-m", "mlops_gen", "generate", *specs, "-o", str(out)], cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"generate failed in {cwd} with seed {seed}:\n{result.stdout}\n{result.stderr}"


def _tree(root: Path) -> dict[str, tuple[bytes, bool]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), bool(p.stat().st_mode & 0o111))
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three renders of the same specs; returns {variant: output dir}."""
    base = tmp_path_factory.mktemp("determinism")
    copy = base / "elsewhere"  # a second checkout-like directory: same relative spec paths, different cwd
    shutil.copytree(ROOT / "specs", copy / "specs")
    shutil.copytree(CORPUS, copy / "tests" / "specs")
    corpus = _corpus_specs()
    outputs = {}
    for group, relative in (("examples", ["specs"]), ("corpus", corpus)):
        if not relative:
            continue
        absolute = [str(ROOT / p) for p in relative]
        _generate(ROOT, relative, base / "seed0" / group, "0")
        _generate(ROOT, absolute, base / "seed1" / group, "1")
        # an output directory outside the project, like the others: the model README names it in its commands
        _generate(copy, relative, base / "random" / group, "random")
    for variant in ("seed0", "seed1", "random"):
        outputs[variant] = base / variant
    return outputs


def test_renders_are_byte_identical(runs: dict[str, Path]) -> None:
    reference = _tree(runs["seed0"])
    assert any(path.endswith("README.md") for path in reference), "nothing rendered"
    for variant in ("seed1", "random"):
        other = _tree(runs[variant])
        assert sorted(other) == sorted(reference), f"{variant}: different file sets"
        differing = [path for path in reference if reference[path] != other[path]]
        assert not differing, f"{variant}: files differ from seed0: {differing}"


def _files(root: Path) -> list[tuple[str, bytes]]:
    return [(path, data) for path, (data, _x) in _tree(root).items()]


def _rendered_files(root: Path) -> list[tuple[str, bytes]]:
    return [(path, data) for path, data in _files(root) if MANIFEST_DIR not in Path(path).parts]


def test_no_absolute_paths(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> None:
    forbidden = {str(ROOT), str(tmp_path_factory.getbasetemp()), "/work/", "/tmp/pytest-",
                 *(str(runs[v]) for v in runs)}
    home = str(Path.home())
    if len(Path(home).parts) > 1:
        forbidden.add(home + "/")
    problems = []
    for path, data in _files(runs["seed0"]):
        text = data.decode("utf-8", errors="replace")
        problems.extend(f"{path}: contains {needle!r}" for needle in sorted(forbidden) if needle in text)
    assert not problems, "\n".join(problems)


def test_no_timestamps_or_tool_versions(runs: dict[str, Path]) -> None:
    today = datetime.datetime.now(datetime.timezone.utc).date()
    days = {today, today - datetime.timedelta(days=1), today + datetime.timedelta(days=1)}  # around midnight
    patterns = [
        *(re.compile(re.escape(day.isoformat())) for day in days),
        *(re.compile(re.escape(day.strftime("%Y%m%d"))) for day in days),
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?"),  # an ISO date-time of any day
        re.compile(r"generated (at|on) ", re.I),
        re.compile(rf"mlops-gen[ =/v]*{re.escape(__version__)}\b"),
    ]
    problems = []
    for path, data in _rendered_files(runs["seed0"]):
        text = data.decode("utf-8", errors="replace")
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                problems.append(f"{path}: {match.group(0)!r}")
    assert not problems, "\n".join(problems)


def test_line_ends_and_final_newline(runs: dict[str, Path]) -> None:
    problems = []
    for path, data in _rendered_files(runs["seed0"]):
        if b"\r" in data:
            problems.append(f"{path}: contains CR")
        if not data.endswith(b"\n") or data.endswith(b"\n\n"):
            problems.append(f"{path}: does not end with exactly one LF")
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{path}: not UTF-8")
    assert not problems, "\n".join(problems)


def test_every_file_carries_the_marker_naming_its_spec(runs: dict[str, Path]) -> None:
    shown = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        for group, paths in (("examples", ["specs"]), ("corpus", _corpus_specs())):
            for spec_file in load_specs(paths) if paths else []:
                shown[f"{group}/{spec_file.spec.model.name}"] = shown_path(spec_file.path)
    problems = []
    checked = 0
    for path, data in _rendered_files(runs["seed0"]):
        if path.endswith(UNMARKED_SUFFIXES):
            continue
        group, model, _rest = path.split("/", 2)
        spec = shown[f"{group}/{model}"]
        lines = data.decode("utf-8").splitlines()
        head = lines[1:3] if lines and lines[0].startswith("#!") else lines[:2]
        marker = re.compile(rf"(Generated|Created) by mlops-gen from {re.escape(spec)}\.(\s|$)")
        checked += 1
        if not head or not marker.search(head[0]):
            problems.append(f"{path}: first line {head[0] if head else ''!r} does not name {spec}")
        elif not re.search(r"Do not edit|This file is yours", " ".join(head)):
            problems.append(f"{path}: the marker does not say whether to edit the file: {head!r}")
    assert checked > 0
    assert not problems, "\n".join(problems)
