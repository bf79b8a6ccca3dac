"""The alternative users would pick: the same templates rendered by copier, one `copier copy` per model.

Built at benchmark time in a temporary directory, never committed:
- the template's root holds a copy of mlops-gen's templates tree, where copier's loader finds it (templates
  include and import each other by root-relative names); copier renders only `_subdirectory: project`;
- for every output path any spec plans, one wrapper file at project/<path>, named
  `{% if 'fNNNN' in mlops_files %}<name>{% endif %}.jinja` so copier skips it for specs without that file; it
  includes the planned template with the file's own context and adds the generated-file header;
- a jinja extension (copier's `_jinja_extensions`) that registers mlops-gen's filters and globals and the header
  function, because the templates call them; StrictUndefined through `_envops`;
- per model a data file (JSON, which is YAML) with the whole template context as plain data, passed with
  `--data-file`: copier sees dicts and lists where mlops-gen passes pydantic models and dataclasses.
Copier renders in its sandboxed environment with the same trim/lstrip/trailing-newline options.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from floor import Job

EXTENSION = '''"""copier extension written by benchmarks/bench.py: mlops-gen's filters, globals and file header."""
import importlib

import jinja2
from jinja2.ext import Extension

from mlops_gen.render.environment import build_env
from mlops_gen.render.headers import with_header


def finish(text, path, spec_shown, mode):
    return with_header(path, text, spec_shown, mode).rstrip("\\n") + "\\n"


class Obj:
    """Attribute access (the `attr` filter) and, for pydantic models, (name, value) iteration, as in mlops-gen."""

    def __init__(self, kind, fields):
        self.__dict__.update(fields)
        self.__kind = kind

    def __iter__(self):
        if self.__kind != "model":
            raise TypeError("not iterable")
        return iter([(k, v) for k, v in vars(self).items() if not k.startswith("_Obj__")])


_seen = {}


def objects(value):
    """Data-file mappings marked as models or dataclasses become objects again (cached: one conversion per run)."""
    key = id(value)
    if key in _seen:
        return _seen[key][1]
    if isinstance(value, dict) and value.get("__kind__") == "str":
        module, name = value["class"].split(":")
        result = getattr(importlib.import_module(module), name)(value["value"])
    elif isinstance(value, dict):
        kind = value.get("__kind__")
        fields = {k: objects(v) for k, v in value.items() if k != "__kind__"}
        result = Obj(kind, fields) if kind else fields
    elif isinstance(value, list):
        result = [objects(v) for v in value]
    else:
        return value
    _seen[key] = (value, result)
    return result


class MlopsGen(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        ours, plain = build_env(), jinja2.Environment()
        environment.filters.update({k: v for k, v in ours.filters.items() if plain.filters.get(k) is not v})
        environment.globals.update({k: v for k, v in ours.globals.items() if plain.globals.get(k) is not v})
        environment.filters["mlops_finish"] = finish
        environment.globals["mlops_objects"] = objects
'''

COPIER_YML = """_subdirectory: project
_jinja_extensions:
  - mlops_copier_ext.MlopsGen
_envops:
  keep_trailing_newline: true
  trim_blocks: true
  lstrip_blocks: true
  autoescape: false
  undefined: jinja2.StrictUndefined
_exclude: [".git", "__pycache__", "*.pyc"]
"""

API_RUNNER = """import json, sys
import copier
template, pairs = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
for data_file, dest in pairs:
    with open(data_file, encoding="utf-8") as stream:
        data = json.load(stream)
    copier.run_copy(template, dest, data=data, defaults=True, unsafe=True, quiet=True)
"""


def _properties(value: Any) -> list[str]:
    """Public properties the project's own classes define (pydantic's and the standard library's excluded)."""
    return sorted({name for cls in type(value).__mro__ if cls.__module__.startswith("mlops_gen")
                   for name, member in vars(cls).items() if isinstance(member, property) and not name.startswith("_")})


def to_plain(value: Any) -> Any:
    """The context as data a YAML file can carry: models and dataclasses become mappings of their fields,
    marked with `__kind__` so the extension can give templates attribute access back."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = [f.name for f in dataclasses.fields(value)]
        return {"__kind__": "dataclass", **{n: to_plain(getattr(value, n)) for n in names + _properties(value)}}
    fields = getattr(type(value), "model_fields", None)
    if isinstance(fields, dict):
        return {"__kind__": "model", **{n: to_plain(getattr(value, n)) for n in [*fields, *_properties(value)]}}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_plain(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and type(value).__module__.startswith("mlops_gen"):  # e.g. ShellRaw: keep the type
        return {"__kind__": "str", "class": f"{type(value).__module__}:{type(value).__qualname__}", "value": value}
    return str(value)


def copier_executable() -> str | None:
    beside = Path(sys.executable).parent / "copier"
    return str(beside) if beside.exists() else shutil.which("copier")


def build(work: Path, jobs: Sequence[Job], templates: Path) -> tuple[Path, Path, list[tuple[str, Path]]]:
    """Write the copier template, its extension and one data file per model; return (template, ext dir, runs)."""
    template, ext, data_dir = work / "template", work / "ext", work / "data"
    for folder in (template, ext, data_dir):
        folder.mkdir(parents=True)
    shutil.copytree(templates, template, dirs_exist_ok=True)
    (template / "copier.yml").write_text(COPIER_YML, encoding="utf-8")
    (ext / "mlops_copier_ext.py").write_text(EXTENSION, encoding="utf-8")

    ids: dict[str, str] = {}
    extra_keys: dict[str, set[str]] = {}
    context_keys: set[str] = set()
    for job in jobs:
        context_keys.update(job.context)
        ids.setdefault(job.path, f"f{len(ids):04d}")
        extra_keys.setdefault(job.path, set()).update(job.extra)
    for path, file_id in ids.items():
        posix = PurePosixPath(path)
        bindings = "".join(f", {key}=mlops_objects({key})" for key in sorted(context_keys))
        bindings += "".join(f", {key}=mlops_objects(mlops_file.extra[{key!r}])" for key in sorted(extra_keys[path]))
        wrapper = (f"{{% set mlops_file = mlops_files[{file_id!r}] %}}"
                   f"{{% filter mlops_finish({path!r}, spec_path, mlops_file.mode) %}}"
                   f"{{% with output_path={path!r}{bindings} %}}{{% include mlops_file.template %}}"
                   "{% endwith %}{% endfilter %}")
        name = f"{{% if {file_id!r} in mlops_files %}}{posix.name}{{% endif %}}.jinja"  # skipped when empty
        target = template / "project" / posix.parent / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(wrapper, encoding="utf-8")

    by_model: dict[str, dict[str, Any]] = {}
    for job in jobs:
        data = by_model.setdefault(job.model, {**to_plain(job.context), "mlops_files": {}})
        data["mlops_files"][ids[job.path]] = {"template": job.template, "mode": job.mode,
                                              "extra": to_plain(job.extra)}
    runs = []
    for model, data in by_model.items():
        data_file = data_dir / f"{model}.yml"
        data_file.write_text(json.dumps(data), encoding="utf-8")  # key order is part of the output
        runs.append((model, data_file))
    return template, ext, runs


def _env(ext: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ext), env.get("PYTHONPATH")]))
    return env


def run_cli(copier: str, template: Path, ext: Path, runs: Sequence[tuple[str, Path]], out: Path) -> float:
    """One `copier copy` process per model, as a shell loop or CI job would run it; total wall seconds."""
    env = _env(ext)
    started = time.perf_counter()
    for model, data_file in runs:
        subprocess.run([copier, "copy", "--defaults", "--trust", "--quiet", "--data-file", str(data_file),
                        str(template), str(out / model)], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return time.perf_counter() - started


def run_api(template: Path, ext: Path, runs: Sequence[tuple[str, Path]], out: Path, work: Path) -> float:
    """All models in one Python process through `copier.run_copy`: copier's best case; total wall seconds."""
    pairs = work / "api-runs.json"
    pairs.write_text(json.dumps([[str(data), str(out / model)] for model, data in runs]), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", API_RUNNER, str(template), str(pairs)], env=_env(ext), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started
