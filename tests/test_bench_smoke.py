"""The benchmark keeps working: its smoke mode runs end to end and reports every metric (no timing assertions)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MEASURED = ("python_startup", "version", "help", "heavy_imports_version", "heavy_imports_help", "validate_1",
            "generate_1", "check_1", "validate_N", "floor_N", "generate_N", "generate_N_noop", "check_N",
            "check_N_one_changed", "peak_rss_generate_N")
COPIER = ("copier_cli_N", "copier_api_N")
MACHINE = ("nproc", "cpu_model", "memory_total", "python", "platform")


def copier_installed() -> bool:
    return (Path(sys.executable).parent / "copier").exists() or shutil.which("copier") is not None


def test_quick_benchmark_measures_every_metric(tmp_path: Path) -> None:
    report, table = tmp_path / "bench.json", tmp_path / "bench.md"
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench.py"), "--quick", "--json", str(report),
                           "--markdown", str(table)], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                          check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(report.read_text(encoding="utf-8"))
    metrics = result["metrics"]
    for key in MEASURED:
        assert metrics[key]["error"] is None, (key, metrics[key]["error"])
        assert isinstance(metrics[key]["value"], (int, float)), key
    for key in ("version", "generate_N", "check_N"):  # the targets that are ratios have their ratio
        assert isinstance(metrics[key]["ratio"], float), key
    for key in COPIER:
        assert metrics[key]["error"] is None, (key, metrics[key]["error"])
        assert (metrics[key]["value"] is not None) == copier_installed(), key
    for key in MACHINE:
        assert result["machine"][key], key
    # The floor writes exactly the bytes generate writes, so the ratio compares like with like.
    floor = result["fidelity"]["floor_vs_generate"]
    assert floor["files"] > 0 and floor["identical"] == floor["files"] and floor["extra_count"] == 0, floor
    if copier_installed():
        for key in COPIER:
            copied = result["fidelity"][f"{key}_vs_floor"]
            assert copied["files"] > 0 and copied["identical"] == copied["files"], copied
    markdown = table.read_text(encoding="utf-8")
    assert "| metric" in markdown and "generate_N" in markdown
