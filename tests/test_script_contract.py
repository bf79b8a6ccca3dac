"""Every `python <script>` call in the generated pipelines names a generated script whose parser accepts it.

The scripts are imported from the rendered tree in a subprocess running the dev interpreter (no pandas, mlflow or
scikit-learn there), which also proves that importing a script and building its parser need only the standard
library. `main` is never called.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_gen.spec.validate import load_specs
from mlops_gen.stages import SCRIPTS, flags_of
from tests.conftest import CORPUS, example_specs
from tests.pipeline_calls import Call, iter_calls, placeholder_argv, render_to

# Runs inside the subprocess: imports each script by file name and parses each argv; one JSON result per call.
_PROBE = r"""
import contextlib, importlib.util, io, json, os, sys
PLACEHOLDER = "PLACEHOLDER"
results = []
modules = {}
for script, argv in json.load(sys.stdin):
    entry = {"script": script, "argv": argv}
    try:
        if script not in modules:
            # As under `python src/x/y.py`: the script's own directory comes first on sys.path.
            sys.path.insert(0, os.path.abspath(os.path.dirname(script)))
            try:
                spec = importlib.util.spec_from_file_location("contract_" + str(len(modules)), script)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
            finally:
                sys.path.pop(0)
            modules[script] = module
        module = modules[script]
        if not callable(getattr(module, "main", None)):
            raise AssertionError("defines no main()")
        parser = module.build_parser()
        options = parser._option_string_actions
        entry["declared"] = sorted(o for o in options if o.startswith("--") and o != "--help")
        if argv is None:  # only the declared flags were asked for
            entry["ok"] = True
            results.append(entry)
            continue
        # A whole-value placeholder stands for a run-time value: give it a value of the type the flag expects.
        fixed, previous = [], None
        for arg in argv:
            action = options.get(previous) if previous else None
            if arg == PLACEHOLDER and action is not None:
                if action.choices:
                    arg = str(list(action.choices)[0])
                elif action.type in (int, float):
                    arg = "1"
            fixed.append(arg)
            previous = arg
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            try:
                parser.parse_args(fixed)
            except SystemExit as exc:
                raise AssertionError(f"parse_args exited {exc.code}: {stderr.getvalue().strip()}")
        entry["ok"] = True
    except BaseException as exc:  # report every failure kind, including ImportError of a heavy module
        entry["ok"] = False
        entry["error"] = f"{type(exc).__name__}: {exc}"
    results.append(entry)
json.dump(results, sys.stdout)
"""


def _specs() -> list[Path]:
    return [*example_specs(), *sorted(CORPUS.glob("*.yaml"))]


def _extension_scripts(spec_path: Path) -> set[str]:
    """Scripts the user supplies through extension points: not generated, so not part of the contract."""
    spec = load_specs([str(spec_path)])[0].spec
    steps = [step for name in type(spec.extensions).model_fields for step in getattr(spec.extensions, name)]
    return {step.script for step in steps}


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    out = tmp_path_factory.mktemp("contract")
    pairs = []
    for spec in _specs():
        folders = render_to([spec], out)
        pairs.extend((spec, folder) for folder in folders.values())
    return pairs


def _probe(tree: Path, calls: list[tuple[str, list[str] | None]]) -> list[dict[str, object]]:
    # -E -s: no PYTHONPATH or user site from the test run, so only the standard library and the tree are seen.
    result = subprocess.run([sys.executable, "-E", "-s", "-c", _PROBE], cwd=tree, input=json.dumps(calls),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _describe(call: Call) -> str:
    return f"{call.file}: python {call.script} {' '.join(call.argv)}"


def test_every_call_names_a_generated_script_that_accepts_it(trees: list[tuple[Path, Path]]) -> None:
    problems = []
    total = 0
    for spec, tree in trees:
        ours = [c for c in iter_calls(tree) if c.script not in _extension_scripts(spec)]
        total += len(ours)
        for call in ours:
            if not (tree / call.script).is_file():
                problems.append(f"{tree.name}: {_describe(call)}\n    script not generated")
        present = [c for c in ours if (tree / c.script).is_file()]
        results = _probe(tree, [(c.script, placeholder_argv(c.argv)) for c in present]) if present else []
        for call, result in zip(present, results, strict=True):
            if not result["ok"]:
                problems.append(f"{tree.name}: {_describe(call)}\n    {result['error']}")
    assert total > 0, "no python calls found in any generated pipeline"
    assert not problems, "\n".join(problems)


def test_generated_parsers_declare_exactly_the_contract_flags(trees: list[tuple[Path, Path]]) -> None:
    """stages.py is the contract: a flag only the script knows can never be passed by a pipeline, and a flag
    only stages.py knows would fail at run time."""
    problems = []
    for _spec, tree in trees:
        present = [s for s in SCRIPTS if (tree / s).is_file()]
        if not present:
            continue
        for script, result in zip(present, _probe(tree, [(s, None) for s in present]), strict=True):
            declared = set(result.get("declared", []))  # type: ignore[arg-type]
            if not declared:
                problems.append(f"{tree.name}: {script}: {result.get('error')}")
                continue
            expected = set(flags_of(script))
            if declared != expected:
                problems.append(f"{tree.name}: {script}: parser-only {sorted(declared - expected)}, "
                                f"stages.py-only {sorted(expected - declared)}")
    assert not problems, "\n".join(problems)


def test_every_generated_script_help_runs_on_the_standard_library(trees: list[tuple[Path, Path]]) -> None:
    """`--help` under the dev interpreter, which has no pandas, mlflow or scikit-learn installed."""
    problems = []
    checked = 0
    for _spec, tree in trees:
        scripts = sorted({*[s for s in SCRIPTS if (tree / s).is_file()],
                          *[p.relative_to(tree).as_posix() for p in tree.rglob("*.py")
                            if "def build_parser(" in p.read_text(encoding="utf-8")]})
        for script in scripts:
            checked += 1
            result = subprocess.run([sys.executable, "-E", "-s", script, "--help"], cwd=tree, capture_output=True,
                                    text=True, timeout=60, check=False)
            if result.returncode != 0 or "usage:" not in result.stdout:
                tail = (result.stderr.strip().splitlines() or ["(no stderr)"])[-1]
                problems.append(f"{tree.name}: python {script} --help exited {result.returncode}: {tail}")
    assert checked > 0, "no generated scripts found"
    assert not problems, "\n".join(problems)


# Flags whose value a stage writes: they need not exist before the call.
OUTPUT_FLAGS = frozenset({"--output", "--junit-output", "--report-output", "--job-file", "--output-dir"})


def test_repository_inputs_named_by_calls_exist(trees: list[tuple[Path, Path]]) -> None:
    """A call reading config/..., tests/..., k8s or src/... names a file the generated tree contains."""
    problems = []
    for spec, tree in trees:
        top = {p.name for p in tree.iterdir()} & {"config", "tests", "k8s", "src"}
        spec_model = load_specs([str(spec)])[0].spec
        user_files = _extension_scripts(spec) | {spec_model.data.local_path}
        for call in iter_calls(tree):
            for flag, value in call.pairs():
                if flag in OUTPUT_FLAGS or not value or value in user_files:
                    continue
                if value.split("/", 1)[0] in top and not (tree / value).exists():
                    problems.append(f"{tree.name}: {_describe(call)}\n    {flag} {value}: no such file")
    assert not problems, "\n".join(problems)
