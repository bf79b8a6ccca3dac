"""Finding `mlops-gen.yaml`: named by --config, else the first one from the working directory upwards, stopping at
the repository root (the folder holding `.git`), as linters find theirs.

Light imports only: `check`'s fast path needs the file's bytes (they are part of every model's recorded inputs)
and its output folder, not its validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlops_gen.errors import UserError
from mlops_gen.output.options import CONFIG_FILE
from mlops_gen.output.paths import shown_path


@dataclass(frozen=True)
class ConfigFile:
    """The configuration file of this run: where it is and its bytes (canonical line endings)."""

    path: Path
    shown_as: str
    raw: bytes

    @property
    def folder(self) -> Path:
        return self.path.parent


def find_config(explicit: str | None, start: Path | None = None) -> ConfigFile | None:
    """The configuration named by `explicit`, else the nearest `mlops-gen.yaml` from `start` (the working
    directory) up to the repository root; None when there is none."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise UserError(f"--config {explicit}: no such file")
        return _read(path)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return _read(candidate)
        if (folder / ".git").exists():
            return None
    return None


def _read(path: Path) -> ConfigFile:
    from mlops_gen.spec.canonical import canonical_spec_bytes

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read the configuration: {exc.strerror or exc}") from exc
    return ConfigFile(path=path, shown_as=shown_path(path), raw=canonical_spec_bytes(raw))


def output_folder(option: str | None, config: ConfigFile | None) -> str:
    """-o when given; else the configuration's `output`, relative to its folder; else `generated`.

    Read without validating the file: every model's recorded inputs include the configuration's bytes, so a
    configuration that changed since the last generate sends every spec through full validation anyway.
    """
    if option is not None:
        return option
    if config is None:
        return "generated"
    import yaml

    try:
        data = yaml.safe_load(config.raw)
    except yaml.YAMLError:
        data = None
    output = data.get("output") if isinstance(data, dict) else None
    if not isinstance(output, str) or not output:
        output = "generated"
    import os

    return os.path.relpath(config.folder / output)
