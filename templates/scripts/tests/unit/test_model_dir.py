"""Unit tests of where the scripts find the model's files (src/common/paths.py): the code's own folder, or the
folder MLOPS_MODEL_DIR names when the code is shared by several models (the monorepo layout)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def paths(scripts: Any) -> Any:
    return scripts("common/paths.py")


def test_the_model_folder_is_the_code_folder_by_default(paths: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_MODEL_DIR", raising=False)
    assert paths.model_dir() == paths.CODE_ROOT
    assert paths.model_file("config/pipeline.yaml") == paths.CODE_ROOT / "config" / "pipeline.yaml"


def test_mlops_model_dir_names_the_model_folder(paths: Any, monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLOPS_MODEL_DIR", "models/churn")  # relative to the working directory
    assert paths.model_dir() == tmp_path / "models" / "churn"
    assert paths.model_file("k8s/prod") == tmp_path / "models" / "churn" / "k8s" / "prod"
    assert paths.model_file(tmp_path / "elsewhere.yaml") == tmp_path / "elsewhere.yaml"


def test_a_shared_training_job_uploads_the_shared_code_and_the_models_config(
        scripts: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    submit = scripts("training/submit_training.py")
    monkeypatch.delenv("MLOPS_MODEL_DIR", raising=False)
    assert submit.code_folder("config/training_config.yaml", tmp_path / "unused") == str(submit.CODE_ROOT)
    model = tmp_path / "model"
    (model / "config").mkdir(parents=True)
    (model / "config" / "training_config.yaml").write_text("params: {}\n", encoding="utf-8")
    monkeypatch.setenv("MLOPS_MODEL_DIR", str(model))
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    assert submit.code_folder("config/training_config.yaml", snapshot) == str(snapshot)
    assert (snapshot / "config" / "training_config.yaml").read_text(encoding="utf-8") == "params: {}\n"
    assert (snapshot / "src" / "training" / "train.py").is_file()
    assert not list(snapshot.rglob("__pycache__"))
