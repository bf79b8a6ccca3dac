"""`validate` of many specs on several cores (mlops_gen/commands/validate.validated: each worker validates a slice
and sends back a line per valid spec) reports what one process reports: the same lines in the same order, and the
same problems, duplicate model names across slices included."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_monorepo_parallel import MODELS, _repository
from tests.test_regeneration import cli


@pytest.fixture(params=["monorepo", "per-model"])
def repo(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = _repository(tmp_path / "repo")
    if request.param == "per-model":
        (root / "mlops-gen.yaml").unlink()
    monkeypatch.chdir(root)
    return root


def both(capsys: pytest.CaptureFixture[str]) -> tuple[tuple[int, str], tuple[int, str]]:
    return cli(capsys, "validate", "specs", "--jobs", "1"), cli(capsys, "validate", "specs", "--jobs", "2")


def test_several_cores_report_what_one_process_reports(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    serial, parallel = both(capsys)
    assert serial == parallel
    assert serial[0] == 0
    assert serial[1].splitlines() == [f"specs/model-{index:02d}.yaml: ok (model-{index:02d})"
                                      for index in range(MODELS)]


def test_problems_in_several_slices_are_all_reported_in_order(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for index in (1, MODELS - 1):  # in the first and the last worker's slices
        spec = repo / "specs" / f"model-{index:02d}.yaml"
        spec.write_text(spec.read_text(encoding="utf-8").replace(f"name: model-{index:02d}",
                                                                 f"name: Model_{index}"), encoding="utf-8")
    serial, parallel = both(capsys)
    assert serial == parallel
    code, output = parallel
    assert code == 2, output
    assert output.index("specs/model-01.yaml:") < output.index(f"specs/model-{MODELS - 1}.yaml:")
    assert "model.name" in output and "Traceback" not in output


def test_one_model_in_two_slices_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    last = repo / "specs" / f"model-{MODELS - 1:02d}.yaml"
    last.write_text(last.read_text(encoding="utf-8").replace(f"name: model-{MODELS - 1}", "name: model-00"),
                    encoding="utf-8")
    serial, parallel = both(capsys)
    assert serial == parallel
    code, output = parallel
    assert code == 2, output
    assert f"specs/model-{MODELS - 1}.yaml:" in output and "also defined in specs/model-00.yaml" in output
