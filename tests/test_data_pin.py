"""The data version validated is the data version trained: validation pins it once, training takes the pin.

Azure ML resolves `latest` of a data asset at each call (`MLClient.data.get(name, label="latest")`, the newest
version at that moment: learn.microsoft.com/python/api/azure-ai-ml/azure.ai.ml.operations.dataoperations#get), so a
version registered between the data-validation and the training job would be trained without being validated.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mlops_gen.pipeline import Ref, build_pipeline
from mlops_gen.spec.validate import load_specs
from tests.conftest import example_specs
from tests.template_scripts import load_script

submit = load_script("training/submit_training.py")
files = load_script("common/files.py")
backend = load_script("common/backend.py")


def _args(**values: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"dataset": None, "dataset_version": "latest", "data_path": None,
                                 "data_file": None, **values})


def test_training_takes_the_asset_version_validation_pinned(tmp_path: Path) -> None:
    pin = tmp_path / "data.json"
    files.write_json(pin, {"dataset": "churn", "version": "7"})
    args = _args(dataset="churn", data_file=str(pin))
    submit.apply_pin(args)
    assert (args.dataset, args.dataset_version) == ("churn", "7")


def test_a_pin_of_another_asset_is_refused(tmp_path: Path) -> None:
    pin = tmp_path / "data.json"
    files.write_json(pin, {"dataset": "other", "version": "7"})
    with pytest.raises(submit.ScriptError, match="pins other"):
        submit.apply_pin(_args(dataset="churn", data_file=str(pin)))


def test_a_local_table_changed_since_validation_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "train.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    pin = tmp_path / "data.json"
    files.write_json(pin, {"data_path": str(table), "sha256": files.data_fingerprint(table)})
    submit.apply_pin(_args(data_path=str(table), data_file=str(pin)))  # unchanged: trains
    table.write_text("a,b\n1,3\n", encoding="utf-8")
    with pytest.raises(submit.ScriptError, match="changed since data validation"):
        submit.apply_pin(_args(data_path=str(table), data_file=str(pin)))


def test_a_folder_fingerprint_covers_names_and_bytes(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.csv").write_text("x\n1\n", encoding="utf-8")
    before = files.data_fingerprint(folder)
    (folder / "a.csv").rename(folder / "b.csv")
    assert files.data_fingerprint(folder) != before
    (folder / "c.csv").write_text("", encoding="utf-8")
    assert files.data_fingerprint(folder) != before


def test_not_a_pin_is_a_clear_error(tmp_path: Path) -> None:
    pin = tmp_path / "data.json"
    files.write_json(pin, {"version": "7"})
    with pytest.raises(submit.ScriptError, match="not a data pin"):
        submit.apply_pin(_args(dataset="churn", data_file=str(pin)))


def test_a_pinned_version_is_asked_for_by_version_not_label(monkeypatch: pytest.MonkeyPatch) -> None:
    """DataOperations.get takes a version or a label; the pinned version goes as `version=`."""
    calls: list[dict[str, Any]] = []
    client = SimpleNamespace(data=SimpleNamespace(get=lambda name, **kw: calls.append({"name": name, **kw})))
    monkeypatch.setattr(backend, "ml_client", lambda args, registry=False: client)
    backend.data_asset(_args(), "churn", "7")
    backend.data_asset(_args(), "churn", "latest")
    assert calls == [{"name": "churn", "version": "7"}, {"name": "churn", "label": "latest"}]


@pytest.mark.parametrize("spec_path", example_specs(), ids=lambda path: path.stem)
def test_the_model_passes_the_pin_from_validation_to_training(spec_path: Path) -> None:
    spec = load_specs([str(spec_path)])[0].spec
    stages = {stage.id: stage for stage in build_pipeline(spec).training}
    (validate,) = [step for step in stages["data"].steps if step.script.endswith("validate_data.py")]
    (train,) = [step for step in stages["train"].steps if step.script.endswith("submit_training.py")]
    assert validate.value("--data-output") == Ref("file", "data")
    assert train.value("--data-file") == validate.value("--data-output")
