"""The model is logged in a way Azure ML's tracking server serves (issue 12 item 1).

MLflow 3's `log_model` creates a LoggedModel through the logged-models REST API (`/api/2.0/mlflow/logged-models`),
which Azure ML's MLflow-compatible tracking server answered with 404 through 2026
(Azure/azure-sdk-for-python#44896; Azure/azureml-examples#3885 and #3891 switch to `save_model` +
`log_artifacts`). Run artifacts are served by every tracking server, and `register_model("runs:/<run>/<path>")`
keeps the run as the version's lineage. The slow run-local scenarios train, register, load and serve a model
logged this way against a real MLflow store; this test pins the calls so a refactor cannot bring log_model back.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "templates" / "scripts" / "src"


def _calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)]


def test_no_script_calls_log_model() -> None:
    offenders = [f"{path.relative_to(SRC)}: {call}" for path in sorted(SRC.rglob("*.py"))
                 for call in _calls(path) if call.endswith("log_model")]
    assert not offenders, offenders


def test_train_saves_the_model_and_logs_it_as_run_artifacts_under_the_registered_path() -> None:
    train = SRC / "training" / "train.py"
    calls = _calls(train)
    assert "mlflow.sklearn.save_model" in calls
    tree = ast.parse(train.read_text(encoding="utf-8"))
    (log,) = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
              and ast.unparse(node.func) == "mlflow.log_artifacts"]
    assert {kw.arg: ast.unparse(kw.value) for kw in log.keywords} == {"artifact_path": "MODEL_ARTIFACT"}
    # register_model.py registers runs:/<run>/MODEL_ARTIFACT (common.registry.model_uri): the same path.
    registry = (SRC / "common" / "registry.py").read_text(encoding="utf-8")
    assert 'return f"runs:/{run_id}/{MODEL_ARTIFACT}"' in registry
