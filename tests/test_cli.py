"""The CLI through click's runner and as a real subprocess: exit codes, streams, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlops_gen import __version__
from mlops_gen.cli import main
from tests.conftest import SPECS


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_examples_ok() -> None:
    code, out, _ = invoke("validate", str(SPECS))
    assert code == 0
    assert "customer-churn.yaml: ok (customer-churn)" in out


def test_validate_misspelled_key_and_wrong_type(tmp_path: Path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text("apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n  name: churn-model\n"
                    "  tsak: classification\ntraining:\n  timeout_minutes: soon\nenvironments:\n  - name: dev\n")
    code, out, err = invoke("validate", str(spec))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"{spec}:5:3: model.tsak: unknown key 'tsak'; did you mean 'task'?",
        f"{spec}:7:20: training.timeout_minutes: Input should be a valid integer, unable to parse string as an "
        "integer (got 'soon')",
    ]


def test_validate_missing_path_is_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke("validate", str(tmp_path / "nope.yaml"))
    assert code == 2 and "no such file or directory" in err


def test_validate_empty_directory(tmp_path: Path) -> None:
    code, _, err = invoke("validate", str(tmp_path))
    assert code == 2 and "no spec files" in err


def test_schema_command_prints_json() -> None:
    code, out, _ = invoke("schema")
    assert code == 0 and json.loads(out)["title"] == "mlops-gen ModelPipeline spec"


def test_init_writes_a_valid_spec_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "demo.yaml"
    assert invoke("init", "demo", "-o", str(target))[0] == 0
    assert invoke("validate", str(target))[0] == 0
    before = target.read_bytes()
    code, _, err = invoke("init", "demo", "-o", str(target))
    assert code == 2 and "already exists" in err and target.read_bytes() == before
    assert invoke("init", "other", "-o", str(target), "--force")[0] == 0
    assert b"name: other" in target.read_bytes()


@pytest.mark.parametrize("name", ["Demo", "ab", "../x", "a b", "x\n  evil: 1"])
def test_init_rejects_bad_names_without_writing(tmp_path: Path, name: str) -> None:
    target = tmp_path / "demo.yaml"
    code, _, err = invoke("init", name, "-o", str(target))
    assert code == 2 and "cannot be a model name" in err and not target.exists()


def test_usage_errors_exit_2() -> None:
    assert invoke("validate")[0] == 2
    assert invoke("no-such-command")[0] == 2
    assert invoke("generate", str(SPECS), "--target", "bogus")[0] == 2


def test_help_everywhere() -> None:
    for command in ("", "validate", "schema", "init", "generate", "check", "diff", "run-local"):
        code, out, _ = invoke(*([command] if command else []), "--help")
        assert code == 0 and "Usage:" in out


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlops_gen", *args], capture_output=True, text=True,
                          check=False, timeout=120, cwd=cwd)


def test_subprocess_version_and_validate(tmp_path: Path) -> None:
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout == f"mlops-gen {__version__}\n"
    bad = tmp_path / "list.yaml"
    bad.write_text("- a\n")
    result = run_cli("validate", str(SPECS), str(bad))
    assert result.returncode == 2
    assert result.stderr == f"{bad}:1:1: a spec must be a YAML mapping of keys to values, not a list\n"
    assert "Traceback" not in result.stdout + result.stderr


def test_version_does_not_import_heavy_modules() -> None:
    probe = ("import sys, runpy; sys.argv=['mlops-gen','--version']\n"
             "try:\n    runpy.run_module('mlops_gen', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pydantic','jinja2','jsonschema','click') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip().endswith("[]")


def test_help_does_not_import_pydantic_jinja_or_jsonschema() -> None:
    probe = ("import sys, runpy; sys.argv=['mlops-gen','--help']\n"
             "try:\n    runpy.run_module('mlops_gen', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pydantic','jinja2','jsonschema') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip().endswith("[]")


def test_the_readmes_init_example_validates_beside_the_example_specs(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """README's `init NAME -o specs/...` then `validate specs/`: the new model must not clash with an example's."""
    import re
    import shlex
    import shutil

    readme = (SPECS.parent / "README.md").read_text(encoding="utf-8")
    line = next(text for text in readme.splitlines() if text.startswith("mlops-gen init "))
    words = shlex.split(line.split("#")[0])[1:]
    shutil.copytree(SPECS, tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    assert invoke(*words)[0] == 0
    code, out, err = invoke("validate", "specs/")
    assert code == 0, err
    assert re.search(r"ok \(" + re.escape(words[1]) + r"\)", out)
