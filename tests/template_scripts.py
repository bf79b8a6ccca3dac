"""Import a stage script of templates/scripts/src in-process, as the fast tests of the generated scripts do."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SRC = Path(__file__).resolve().parent.parent / "templates" / "scripts" / "src"


def load_script(relpath: str) -> ModuleType:
    """A fresh module object of `src/<relpath>`; the script's shared `common` helpers import from src/."""
    sys.path.insert(0, str(SRC))
    try:
        # Named by its path from the repository root, which is the name mutmut gives its mutants (docs/testing.md).
        name = "templates.scripts.src." + relpath.removesuffix(".py").replace("/", ".")
        spec = importlib.util.spec_from_file_location(name, SRC / relpath)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SRC))


def helper_modules() -> list[str]:
    """The stage scripts' helper modules imported in this process (`support`, the `common` package): a test that
    imports a script from one folder drops them afterwards, so the next folder's scripts import their own
    (common.paths locates the code, and with it the model's files, by its own file)."""
    return [name for name in sys.modules if name in ("support", "common") or name.startswith("common.")]


def forget_helper_modules() -> None:
    for name in helper_modules():
        del sys.modules[name]
