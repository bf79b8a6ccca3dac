"""The monorepo layout's golden record (examples/monorepo: the example specs as one repository of many models),
with the real templates: it is current, it passes the referees, and its diffs are reviewable.

Issue 14's "done when": generating from the repository root puts every model's GitHub workflow under the root
.github/workflows/, a gate edited in a shared template changes no per-model file, a spec change changes only that
model's files, and a model owns at most 15 files.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_gen.layout.paths import SHARED, WORKFLOWS
from tests.conftest import ROOT, SPECS
from tests.referees import assert_clean, run_tool, tool

GOLDEN = ROOT / "examples" / "monorepo"
OUT = "generated"
MANIFEST = ".mlops-gen/manifest.json"
MAX_FILES_PER_MODEL = 15  # issue 14, deliverable 6
FIX = "run `mlops-gen generate specs` in examples/monorepo and commit what changed"
YAMLLINT_CONFIG = ROOT / "tests" / "yamllint.yaml"


def cli(args: list[str], cwd: Path) -> tuple[int, str]:
    """mlops-gen as a user runs it: its own process, from the repository root (the configuration is found there)."""
    result = subprocess.run([sys.executable, "-m", "mlops_gen", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=600, check=False)
    return result.returncode, result.stdout + result.stderr


def _copy(target: Path) -> Path:
    """A repository like the golden record's: its configuration and the example specs (real files, not the link)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(GOLDEN / "mlops-gen.yaml", target / "mlops-gen.yaml")
    shutil.copytree(SPECS, target / "specs", ignore=shutil.ignore_patterns("*.json"))
    subprocess.run(["git", "init", "-q", str(target)], check=True)  # spec paths are shown from the git root
    return target


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.relative_to(root).as_posix().startswith(("specs/", ".git/", "mlops-gen.yaml"))
            and not p.as_posix().endswith(MANIFEST)}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = _copy(tmp_path_factory.mktemp("monorepo") / "repo")
    code, out = cli(["generate", "specs"], cwd=repo)
    assert code == 0, out
    return repo


def _units(root: Path) -> dict[str, list[str]]:
    """Each unit's owned files (root-relative), from its manifest."""
    found = {}
    for manifest in sorted((root / OUT).glob(f"*/{MANIFEST}")):
        data = json.loads(manifest.read_text(encoding="utf-8"))
        found[manifest.parts[-3]] = [*data["files"], f"{OUT}/{manifest.parts[-3]}/{MANIFEST}"]
    return found


def test_the_golden_record_is_a_fresh_generate_byte_for_byte(fresh: Path) -> None:
    expected, actual = _files(fresh), _files(GOLDEN)
    assert sorted(actual) == sorted(expected), FIX
    stale = [path for path in expected if expected[path] != actual[path]]
    assert not stale, f"{stale[:5]}: {FIX}"


def test_every_models_workflows_are_at_the_repository_root(fresh: Path) -> None:
    models = sorted(p.name for p in (fresh / OUT).iterdir() if p.is_dir() and p.name != SHARED)
    assert models == ["customer-churn", "fraud-detector", "house-prices"]
    workflows = sorted(p.name for p in (fresh / WORKFLOWS).iterdir())
    for model in models:
        spec = yaml.safe_load((fresh / "specs" / next(
            p.name for p in (fresh / "specs").iterdir()
            if yaml.safe_load(p.read_text(encoding="utf-8"))["model"]["name"] == model)).read_text(encoding="utf-8"))
        if "github_actions" in spec.get("platforms", ["azure_devops", "github_actions"]):
            assert f"mlops-{model}.yml" in workflows
    assert not list((fresh / OUT).rglob(".github"))  # nothing GitHub would never run


def test_a_model_owns_at_most_15_files_and_the_shared_part_no_model_literal(fresh: Path) -> None:
    units = _units(fresh)
    for unit, files in units.items():
        if unit != SHARED:
            assert len(files) <= MAX_FILES_PER_MODEL, (unit, files)
    shared_text = "\n".join((fresh / path).read_text(encoding="utf-8") for path in units[SHARED]
                            if not path.endswith(MANIFEST))
    for model in (unit for unit in units if unit != SHARED):
        assert not re.search(rf"\b{re.escape(model)}\b", shared_text), model


def _changed(before: dict[str, bytes], after: dict[str, bytes]) -> set[str]:
    return {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and ".git/" not in p.as_posix() and "/specs/" not in f"/{p.relative_to(root).as_posix()}"}


def test_editing_a_gate_in_a_shared_template_changes_no_model_file(tmp_path: Path) -> None:
    repo = _copy(tmp_path / "repo")
    assert cli(["generate", "specs"], cwd=repo)[0] == 0
    before = _snapshot(repo)
    # An edit of the model-validation gate job, as a template fix would make it (through an override, which is how
    # a team patches a template).
    template = ROOT / "templates" / "github_actions" / "monorepo" / "pipeline.yml.j2"
    text = template.read_text(encoding="utf-8")
    anchor = "    name: {{ stage.name|yaml_str }}\n"
    assert anchor in text
    patched = text.replace(anchor, anchor + '{% if stage.job == "validate-model" %}    # gate fix: reviewed\n'
                                           "{% endif %}", 1)
    overrides = tmp_path / "overrides" / "github_actions" / "monorepo"
    overrides.mkdir(parents=True)
    (overrides / "pipeline.yml.j2").write_text(patched, encoding="utf-8")
    code, out = cli(["generate", "specs", "--override-dir", str(tmp_path / "overrides")], cwd=repo)
    assert code == 0, out
    changed = _changed(before, _snapshot(repo))
    shared = set(_units(repo)[SHARED])
    assert f"{WORKFLOWS}/mlops.pipeline.yml" in changed
    # The shared workflow and manifests only: a model's manifest records the override folder among its inputs,
    # while the files it lists keep their bytes.
    manifests = {path for path in changed if path.endswith(MANIFEST)}
    assert changed - manifests <= shared, sorted(changed - manifests - shared)
    for path in manifests - shared:
        assert json.loads(before[path])["files"] == json.loads((repo / path).read_bytes())["files"], path


def test_a_spec_change_changes_only_that_models_files(tmp_path: Path) -> None:
    repo = _copy(tmp_path / "repo")
    assert cli(["generate", "specs"], cwd=repo)[0] == 0
    before = _snapshot(repo)
    spec = repo / "specs" / "customer-churn.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "min: 0.85" in text
    spec.write_text(text.replace("min: 0.85", "min: 0.86", 1), encoding="utf-8")
    code, out = cli(["generate", "specs"], cwd=repo)
    assert code == 0, out
    changed = _changed(before, _snapshot(repo))
    mine = set(_units(repo)["customer-churn"])
    assert f"{OUT}/customer-churn/config/plan.json" in changed
    assert changed <= mine, sorted(changed - mine)


def test_the_golden_record_passes_the_referees(tmp_path: Path) -> None:
    """actionlint (with shellcheck; it checks every caller's inputs against the called workflow, from the git
    root), zizmor offline, the GitHub workflow schema, yamllint, hadolint on the shared Dockerfile."""
    repo = tmp_path / "repo"
    shutil.copytree(GOLDEN, repo, symlinks=False, ignore=shutil.ignore_patterns("specs"))
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    workflows = sorted(str(p) for p in (repo / WORKFLOWS).glob("*.yml"))
    assert len(workflows) >= 8
    assert_clean(run_tool(["actionlint", "-oneline", "-no-color", "-pyflakes=", f"-shellcheck={tool('shellcheck')}",
                           *workflows], cwd=repo))
    zizmor = run_tool(["zizmor", "--offline", "--no-progress", "--color", "never", "--strict-collection",
                       str(repo / WORKFLOWS)])
    assert_clean(zizmor)
    assert "No findings to report" in zizmor.stdout, zizmor.stdout
    assert_clean(run_tool(["check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows]))
    yamls = [str(p) for p in repo.rglob("*.y*ml") if ".git/" not in p.as_posix()]
    assert_clean(run_tool(["yamllint", "-s", "-c", str(YAMLLINT_CONFIG), "-f", "parsable", *yamls]))
    assert_clean(run_tool(["hadolint", str(repo / OUT / SHARED / "Dockerfile")]))


def test_both_platforms_run_every_training_stage_of_the_plan() -> None:
    """Parity in this layout: both platforms' shared files run each training stage of the plan through the runner
    (the steps themselves come from the one plan; tests/test_run_plan.py holds them to the per-model layout; each
    platform's release, rollback and notify parts are checked in its own tests)."""
    from mlops_gen.pipeline.training import training_stages
    from mlops_gen.spec.validate import load_specs

    stages = {f"stage:{stage.id}" for spec_file in load_specs([str(SPECS)])
              for stage in training_stages(spec_file.spec)}

    def parts(folder: Path, pattern: str) -> set[str]:
        return {part for path in folder.glob(pattern)
                for part in re.findall(r"\bstage:[a-z_]+", path.read_text(encoding="utf-8"))}

    assert parts(GOLDEN / WORKFLOWS, "mlops.*.yml") == stages
    assert parts(GOLDEN / OUT / SHARED / "azure-pipelines", "*.yml") == stages


def test_the_shared_code_passes_its_own_code_quality_checks(tmp_path: Path) -> None:
    """What the shared code-quality job runs before the unit tests (`ruff check src tests`, `mypy src`, with the
    shared ruff.toml and mypy.ini), on a copy: an executable script without a shebang or a type slip in the shared
    code would fail every model's pipeline. (The unit tests themselves need the scripts' requirements: the slow
    tests run them, tests/test_generated_ci.py.)"""
    shared = tmp_path / SHARED
    shutil.copytree(GOLDEN / OUT / SHARED, shared)
    assert_clean(run_tool(["ruff", "check", "--no-cache", "src", "tests"], cwd=shared))
    assert_clean(run_tool(["mypy", "--config-file", "mypy.ini", "--cache-dir", str(tmp_path / "mypy-cache"), "src"],
                          cwd=shared))
