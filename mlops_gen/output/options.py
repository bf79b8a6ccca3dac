"""Options shared by generate, check and diff, kept free of heavy imports for check's fast path."""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from mlops_gen.errors import EXIT_DIFFERENCES, UserError
from mlops_gen.output.paths import project_root, shown_path

SPEC_SUFFIXES = (".yaml", ".yml")  # as mlops_gen.spec.validate.SPEC_SUFFIXES
CONFIG_FILE = "mlops-gen.yaml"  # the repository configuration, never a spec (mlops_gen.repo_config.find)


def discover_specs(paths: Iterable[str]) -> list[Path]:
    """Spec files under `paths`, exactly as mlops_gen.spec.validate.discover finds them (without importing it)."""
    names = list(paths)
    found: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*")
                                if p.suffix in SPEC_SUFFIXES and p.name != CONFIG_FILE and p.is_file()))
        elif path.is_file():
            found.append(path)
        elif path.exists():  # a FIFO, a device, /dev/stdin
            raise UserError(f"{name}: not a regular file or directory; a spec is read from a file (its path is "
                            "recorded in generated files): save it to one first")
        else:
            raise UserError(f"{name}: no such file or directory")
    if not found:
        raise UserError(f"no spec files (*.yaml, *.yml) found in {', '.join(names)}")
    return found


def scanned_dirs(paths: Iterable[str]) -> list[str]:
    """Directory arguments as manifests record spec paths (relative to the project root, see shown_path);
    directories outside it are left out, so a deleted spec is only ever recognised by an exact relative path."""
    found = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            resolved, root = path.resolve(), project_root(path).resolve()
            if resolved == root or root in resolved.parents:
                found.append(shown_path(path))
    return found


def override_paths(dirs: Sequence[str]) -> list[Path]:
    """Template override directories, searched before the built-in templates in the order given."""
    found = []
    for name in dirs:
        path = Path(name)
        if not path.is_dir():
            raise UserError(f"--override-dir {name}: no such directory")
        found.append(path)
    return found


def shown_overrides(dirs: Sequence[Path]) -> tuple[str, ...]:
    return tuple(shown_path(d) for d in dirs)


def fix_command(spec_or_dir: str, output: str, overrides: Sequence[str] = (), config: str | None = None) -> str:
    """The generate command that brings a folder up to date; `config`: the --config the check was given (a
    discovered configuration is found again by the same search)."""
    words = ["mlops-gen", "generate", spec_or_dir, "-o", output]
    for directory in overrides:
        words += ["--override-dir", directory]
    if config is not None:
        words += ["--config", config]
    return shlex.join(words)


@contextlib.contextmanager
def reader_may_leave() -> Iterator[None]:
    """`mlops-gen diff | head`: when the reader closes the pipe, stop quietly (exit 1: there were differences)."""
    try:
        yield
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        raise SystemExit(EXIT_DIFFERENCES) from None
