"""The ownership manifest of a model folder: what mlops-gen wrote there, from which inputs.

`OUTDIR/<model>/.mlops-gen/manifest.json` records the generator version, the spec (path as shown and hash), the
template fingerprint and, per file, its mode (`owned`: regenerated and drift-checked; `seeded`: written once, then
the user's), its target, whether it is executable and, for owned files, the sha256 of the bytes written. Only files
listed as owned are ever deleted, and every listed path is validated before anything is touched. The JSON is
deterministic (sorted keys, no timestamps) so it can be committed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from mlops_gen.errors import UserError
from mlops_gen.output.paths import read_regular, safe_target, validate_relative

MANIFEST_PATH = ".mlops-gen/manifest.json"
FORMAT = 1
PER_MODEL = "per-model"
MONOREPO = "monorepo"
LAYOUTS = (PER_MODEL, MONOREPO)
SHARED_UNIT = "_shared"  # the monorepo layout's shared unit (mlops_gen.layout.paths.SHARED)


class Entry(NamedTuple):
    """One file of a manifest (a named tuple: a monorepo's manifests hold tens of thousands)."""

    mode: str  # "owned" | "seeded"
    target: str
    executable: bool = False
    sha256: str | None = None  # owned files only: the bytes mlops-gen wrote

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mode": self.mode, "target": self.target, "executable": self.executable}
        if self.mode == "owned":
            data["sha256"] = self.sha256
        return data


@dataclass(frozen=True)
class Manifest:
    model: str
    spec_path: str
    spec_sha256: str
    generator_version: str
    template_fingerprint: str
    generator_fingerprint: str = ""
    override_dirs: tuple[str, ...] = ()
    complete: bool = True  # False after a --target subset rendered with changed inputs: check must re-render
    files: dict[str, Entry] = field(default_factory=dict)
    # Read from disk and its file list does not match the digest mlops-gen recorded: edited by hand (or written by
    # an older mlops-gen). Never trusted for check's fast path, nor to delete anything.
    edited: bool = False
    # The layout that wrote it. `per-model`: paths are relative to the manifest's model folder (and neither key is
    # written, so those manifests keep their bytes); `monorepo`: relative to the repository root, the folder that
    # holds `output` (the output folder, relative to that root).
    layout: str = PER_MODEL
    output: str = ""
    # monorepo: the templates the unit's render loaded; `template_fingerprint` covers these only, so a template
    # change touches the manifests of the units that use it, not every unit's.
    templates_used: tuple[str, ...] = ()

    def files_digest(self) -> str:
        """sha256 of the file list as written: lets a later run tell a hand-edited manifest."""
        listing = _dumps({path: self.files[path].to_json() for path in sorted(self.files)}, "\n")
        return hashlib.sha256(listing.encode("utf-8")).hexdigest()

    def inputs(self) -> tuple[str, str, str, str, str]:
        return (self.spec_path, self.spec_sha256, self.generator_version, self.generator_fingerprint,
                self.template_fingerprint)

    def owned(self) -> dict[str, Entry]:
        return {path: entry for path, entry in self.files.items() if entry.mode == "owned"}

    def to_bytes(self) -> bytes:
        """The manifest's JSON (cached: a manifest is written, and compared with the disk, once per folder)."""
        cached: bytes | None = self.__dict__.get("_bytes")
        if cached is None:
            cached = self._encode()
            object.__setattr__(self, "_bytes", cached)  # frozen dataclass: a cache, not a field
        return cached

    def _encode(self) -> bytes:
        data = {
            "format": FORMAT,
            "generator": {"name": "mlops-gen", "version": self.generator_version,
                          "fingerprint": self.generator_fingerprint},
            "model": self.model,
            "spec": {"path": self.spec_path, "sha256": self.spec_sha256},
            "templates": {"fingerprint": self.template_fingerprint, "override_dirs": list(self.override_dirs)},
            "complete": self.complete,
            "files": {path: self.files[path].to_json() for path in sorted(self.files)},
            "files_sha256": self.files_digest(),
        }
        if self.layout != PER_MODEL:
            data["layout"] = self.layout
            data["output"] = self.output
            data["templates"]["used"] = list(self.templates_used)  # type: ignore[index]
        return (_dumps(data, "\n") + "\n").encode("utf-8")


def _dumps(value: Any, newline: str) -> str:
    """Exactly json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) for str/bool/int/None/list/dict data;
    json's indenting encoder is pure Python and generic, and this runs for every file of every model."""
    if isinstance(value, str):
        return _quote(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return int.__repr__(value)
    inner = newline + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{_quote(key)}: {_dumps(value[key], inner)}" for key in sorted(value)]
        return "{" + inner + ("," + inner).join(items) + newline + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        return "[" + inner + ("," + inner).join(_dumps(item, inner) for item in value) + newline + "]"
    raise TypeError(f"manifest value of type {type(value).__name__}")


_quote = json.encoder.encode_basestring  # the C version when available


def _bad(where: str, message: str) -> UserError:
    return UserError(f"{where}: invalid manifest: {message}. Nothing was changed; fix or delete the manifest "
                     "(mlops-gen then treats the folder's files as not its own and deletes none of them)")


def _string(data: Any, key: str, where: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, str):
        raise _bad(where, f"{key!r} must be a string")
    return value


def parse_manifest(raw: bytes, where: str) -> Manifest:
    """Parse and validate every field and path of a manifest; raise before the caller touches any file."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(where, f"not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad(where, f"expected a JSON object with \"format\": {FORMAT}")
    generator, spec, templates = data.get("generator"), data.get("spec"), data.get("templates")
    files = data.get("files")
    if not isinstance(files, dict):
        raise _bad(where, "'files' must be an object")
    overrides = templates.get("override_dirs", []) if isinstance(templates, dict) else None
    if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
        raise _bad(where, "'templates.override_dirs' must be a list of strings")
    entries: dict[str, Entry] = {}
    for path, value in files.items():
        try:
            validate_relative(path, where)
        except UserError as exc:
            raise _bad(where, str(exc).removeprefix(f"{where}: ")) from None
        if path == MANIFEST_PATH:
            raise _bad(where, "it lists itself")
        mode = value.get("mode") if isinstance(value, dict) else None
        if mode not in ("owned", "seeded"):
            raise _bad(where, f"{path!r}: 'mode' must be 'owned' or 'seeded'")
        digest = value.get("sha256") if mode == "owned" else None
        if mode == "owned" and not (isinstance(digest, str) and len(digest) == 64):
            raise _bad(where, f"{path!r}: an owned file needs its 'sha256'")
        target = value.get("target")
        if not isinstance(target, str):
            raise _bad(where, "'target' must be a string")
        entries[path] = Entry(mode, target, bool(value.get("executable", False)), digest)
    layout = data.get("layout", PER_MODEL)
    if layout not in LAYOUTS:
        raise _bad(where, f"'layout' must be one of {', '.join(LAYOUTS)}")
    output = data.get("output", "") if layout != PER_MODEL else ""
    if layout != PER_MODEL:
        if not isinstance(output, str) or not output:
            raise _bad(where, "a monorepo manifest needs its 'output' folder")
        try:
            validate_relative(output, where)
        except UserError as exc:
            raise _bad(where, str(exc).removeprefix(f"{where}: ")) from None
    used = templates.get("used", []) if isinstance(templates, dict) else []
    if not isinstance(used, list) or not all(isinstance(name, str) for name in used):
        raise _bad(where, "'templates.used' must be a list of strings")
    manifest = Manifest(model=_string(data, "model", where), spec_path=_string(spec, "path", where),
                    spec_sha256=_string(spec, "sha256", where),
                    generator_version=_string(generator, "version", where),
                    # optional: a manifest without it only misses check's fast path
                    generator_fingerprint=str(generator.get("fingerprint", "")) if isinstance(generator, dict) else "",
                    template_fingerprint=_string(templates, "fingerprint", where),
                    override_dirs=tuple(overrides), complete=data.get("complete") is True, files=entries,
                    layout=layout, output=output, templates_used=tuple(used))
    if data.get("files_sha256") != manifest.files_digest():
        object.__setattr__(manifest, "edited", True)
    return manifest


def manifest_file(root: Path, manifest_path: str = MANIFEST_PATH) -> Path:
    """`manifest_path`: relative to `root` (a unit of the monorepo layout keeps it in its folder below the root)."""
    return safe_target(root, manifest_path, "manifest")


def read_manifest(root: Path, manifest_path: str = MANIFEST_PATH) -> Manifest | None:
    """The validated manifest of the model folder `root` (or of the unit whose manifest is `root`/`manifest_path`),
    None when there is none yet. It must name the folder that holds its `.mlops-gen/`."""
    path = manifest_file(root, manifest_path)
    raw = read_regular(path)
    if raw is None:
        return None
    manifest = parse_manifest(raw, str(path))
    folder = path.parent.parent.name
    if manifest.model != folder:
        raise _bad(str(path), f"it belongs to model {manifest.model!r}, not to folder {folder!r}")
    return manifest


def unit_place(folder: Path, manifest: Manifest) -> tuple[Path, str]:
    """The root a manifest's paths are relative to and the manifest's path relative to it, for the manifest of
    `folder` (the folder holding `.mlops-gen/`): the folder itself for the per-model layout; the repository root
    (`output`'s parent, `output` levels above the output folder) for the monorepo layout."""
    if manifest.layout == PER_MODEL:
        return folder, MANIFEST_PATH
    parts = manifest.output.split("/")
    absolute = Path(os.path.abspath(folder))
    outdir = absolute.parent
    if outdir.parts[-len(parts):] != tuple(parts):
        raise _bad(str(folder / MANIFEST_PATH), f"it was written for the output folder {manifest.output!r}, which is "
                                                "not where it is now")
    root = outdir.parents[len(parts) - 1]
    shown = root if folder.is_absolute() else Path(os.path.relpath(root))
    return shown, f"{manifest.output}/{folder.name}/{MANIFEST_PATH}"


def all_manifests(outdir: Path) -> list[tuple[Path, Manifest]]:
    """Every valid manifest of OUTDIR/*/; invalid ones are skipped (never a reason to delete anything)."""
    found: list[tuple[Path, Manifest]] = []
    if not outdir.is_dir():
        return found
    for path in sorted(outdir.glob(f"*/{MANIFEST_PATH}")):
        root = path.parent.parent
        try:
            manifest = read_manifest(root)
        except (UserError, OSError):
            continue
        if manifest is not None:
            found.append((root, manifest))
    return found
