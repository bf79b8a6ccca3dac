"""Where run-local finds the model's files and the code that runs on them: the one home of that fact.

In the per-model layout one folder holds both: the model folder's src/ and tests/ are its code (the scripts'
CODE_ROOT is the model folder). In the monorepo layout the code (src/, tests/, requirements*.txt) is the shared
folder `<out>/_shared`, the model's files (config/, tests/data/, k8s/) are `<out>/<model>`. Either way every step
runs with the model folder as working directory, where run-local's results and state live (.mlops/); in the
monorepo layout MLOPS_MODEL_DIR names it too, as the CI runner (src/pipeline/run_plan.py) sets it.

A stage's arguments that are paths of the code (its script, a pytest step's test folder) are CodePath values,
relative to the code folder; Folders.argv places them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# The variable the generated scripts read to find the model folder (templates/scripts/src/common/paths.py:
# MODEL_DIR_VARIABLE; tests/test_run_local_monorepo.py keeps the two equal).
MODEL_DIR_VARIABLE = "MLOPS_MODEL_DIR"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")  # what the venv installs, from the code folder
LOCAL_TARGET = "src/deployment/local_target.py"  # the local endpoints' script: status and suspend


class CodePath(str):
    """An argument that is a path relative to the code folder: a stage script or a test folder."""

    __slots__ = ()


@dataclass(frozen=True)
class Folders:
    """model: the model folder (the working directory of every step); code: the folder holding src/ and tests/
    (the model folder itself in the per-model layout, the shared folder in the monorepo layout). Both absolute."""

    model: Path
    code: Path

    @classmethod
    def per_model(cls, model: Path) -> Folders:
        return cls(model.resolve(), model.resolve())

    @classmethod
    def shared(cls, model: Path, code: Path) -> Folders:
        return cls(model.resolve(), code.resolve())

    @property
    def is_shared(self) -> bool:
        return self.code != self.model

    def code_path(self, relative: str) -> str:
        """A path of the code as the step's command line spells it: relative to the working directory when the
        code is the model folder (as per-model runs always showed it), else the shared folder's absolute path."""
        return str(self.code / relative) if self.is_shared else relative

    def argv(self, args: Iterable[str]) -> list[str]:
        """`args` with every CodePath placed in the code folder."""
        return [self.code_path(arg) if isinstance(arg, CodePath) else arg for arg in args]

    def requirements(self) -> list[Path]:
        return [self.code / name for name in REQUIREMENTS]

    def env(self) -> dict[str, str]:
        """What the steps' environment adds to say where the model folder is (nothing in the per-model layout:
        the scripts' own folder is the model folder)."""
        return {MODEL_DIR_VARIABLE: str(self.model)} if self.is_shared else {}
