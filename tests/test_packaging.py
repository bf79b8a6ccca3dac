"""Templates ship inside the wheel: after a non-editable install, generate works from an unrelated directory."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT, SPECS


def build_wheel(out: Path) -> Path:
    # Offline: the build backend (hatchling, a test extra) comes from this environment, not from the package index.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
                    "-w", str(out), str(ROOT)], check=True, timeout=600, capture_output=True)
    (wheel,) = out.glob("mlops_gen-*.whl")
    return wheel


def test_wheel_contains_templates_and_generates_elsewhere(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    templates = sorted(n for n in names if n.startswith("mlops_gen/templates/"))
    source_templates = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file())
    assert [n.removeprefix("mlops_gen/") for n in templates] == source_templates

    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(site),
                    str(wheel)], check=True, timeout=600, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run([sys.executable, "-c", "import mlops_gen, sys; print(mlops_gen.__file__)"], cwd=elsewhere,
                           env=env, capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(site)), "the installed copy, not the checkout, must be imported"
    result = subprocess.run([sys.executable, "-m", "mlops_gen", "generate", str(SPECS / "customer-churn.yaml"),
                             "-o", "out"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stderr
    generated = [p for p in (elsewhere / "out" / "customer-churn").rglob("*") if p.is_file()]
    assert generated, "nothing was generated"
