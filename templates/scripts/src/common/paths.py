"""Where the code and the model's files are.

The scripts and tests live in CODE_ROOT (src/ and tests/). The model's own files (config/pipeline.yaml, the
smoke test data, k8s/<environment>/) live in the model folder. In a repository per model the two are one folder.
In the monorepo layout the code is shared by every model, and MLOPS_MODEL_DIR names the model folder (the CI
jobs' runner, src/pipeline/run_plan.py, sets it).
"""

from __future__ import annotations

import os
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parents[2]
MODEL_DIR_VARIABLE = "MLOPS_MODEL_DIR"


def model_dir() -> Path:
    """The model folder: MLOPS_MODEL_DIR (relative to the working directory) when set, else CODE_ROOT."""
    chosen = os.environ.get(MODEL_DIR_VARIABLE)
    return Path(chosen).resolve() if chosen else CODE_ROOT


def model_file(relative: str | Path) -> Path:
    """A path of the model folder; an absolute path stays as it is."""
    path = Path(relative)
    return path if path.is_absolute() else model_dir() / path
