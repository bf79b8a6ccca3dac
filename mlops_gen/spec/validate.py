"""Load, validate and check spec files, turning every problem into a positioned `Problem`."""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from mlops_gen.errors import Problem, SpecError
from mlops_gen.output.options import discover_specs
from mlops_gen.repo_config.find import ConfigFile
from mlops_gen.spec.canonical import input_bytes
from mlops_gen.spec.loader import LoadedSpec, load_file
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.spec.secrets import credential_message, credentials_in
from mlops_gen.spec.semantic import semantic_findings
from mlops_gen.spec.spellings import annotation_at, spelling_findings
from mlops_gen.spec.types import SecretName

if TYPE_CHECKING:
    from mlops_gen.repo_config.load import RepoSettings

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SpecFile:
    """A validated spec and the file it came from."""

    path: Path
    shown_as: str
    spec: ProjectSpec
    raw: bytes
    name_at: tuple[int, int] = (1, 1)  # line and column of model.name, where a clash with another spec is shown
    config_raw: bytes = b""  # the repository configuration it was resolved against (see mlops_gen.repo_config)

    @property
    def inputs(self) -> bytes:
        """What the rendered output depends on besides the generator: the spec, and the configuration's bytes."""
        return input_bytes(self.raw, self.config_raw)


def _model_at(path: tuple[str | int, ...], root: type[BaseModel] = ProjectSpec) -> type[BaseModel] | None:
    """The pydantic model that validates the mapping at `path`, to suggest the keys it accepts."""
    current = _unwrap(annotation_at(path, root))
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _expects_secret_name(path: tuple[str | int, ...]) -> bool:
    """Whether the field at `path` holds the name of a secret (SecretName), like notifications.webhook_secret."""
    model = _model_at(path[:-1]) if path and isinstance(path[-1], str) else None
    field = model.model_fields.get(str(path[-1])) if model is not None else None
    marks = typing.get_args(SecretName)[1:]
    return field is not None and any(mark in field.metadata for mark in marks)


def _unwrap(annotation: Any, *, index: bool = False) -> Any:
    """Strip Optional/list/dict wrappers down to the model inside them."""
    for _ in range(4):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        origin = typing.get_origin(annotation)
        if origin in (list, tuple) and args:
            annotation = args[0]
        elif origin is dict and len(args) == 2:
            annotation = args[1]
        elif args and origin is not typing.Literal and origin is not typing.Annotated:
            annotation = args[0]
        else:
            break
    return annotation


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


_SHOWN_TYPES = {dict: "a mapping", list: "a list", bool: "a boolean", int: "a number", float: "a number",
                type(None): "nothing"}


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        return _SHOWN_TYPES[type(value)]
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: Any) -> str:
    kind = error["type"]
    message = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of keys to values (got {_shown(value)})"
    if kind == "too_short" and isinstance(value, (list, dict)):
        return f"must have at least {error.get('ctx', {}).get('min_length', 1)} item(s)"
    if kind == "list_type":
        return f"must be a list (got {_shown(value)})"
    if kind.endswith(("_type", "_parsing")) or kind in (
            "literal_error", "int_from_float", "greater_than_equal", "less_than_equal", "greater_than",
            "less_than", "too_short", "too_long"):
        message = f"{message} (got {_shown(value)})"
    if kind == "literal_error" and isinstance(value, str):
        choices = re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean {close[0]!r}?"
    return message


def problems_from_validation(loaded: LoadedSpec, exc: ValidationError, root: type[BaseModel] = ProjectSpec
                             ) -> list[Problem]:
    """Each pydantic error of validating `loaded` as a `root` document, positioned, in words."""
    problems = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if isinstance(part, (str, int)))
        # A mapping key that is not valid: pydantic adds '[key]' after it; the problem is the key itself.
        of_key = "[key]" in loc
        if of_key:
            loc = loc[:loc.index("[key]")]
        # Literal/union validators add their own loc parts (e.g. 'function-after[...]'): keep real data keys.
        loc = _data_path(loaded.data, loc)
        shown = dotted(loc)
        if error["type"] == "extra_forbidden":
            line, column = loaded.position(loc, of_key=True)
            model = _model_at(loc[:-1], root)
            suggestion = ""
            if model is not None:
                close = difflib.get_close_matches(str(loc[-1]), _keys_of(model), n=1, cutoff=0.6)
                allowed = ", ".join(_keys_of(model))
                suggestion = f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {allowed}"
            problems.append(Problem(loaded.file_at(loc), line, column, shown, f"unknown key {loc[-1]!r}{suggestion}"))
        elif error["type"] == "missing":
            line, column = loaded.position(loc[:-1], of_key=True) if loc[:-1] else (1, 1)
            problems.append(Problem(loaded.file_at(loc[:-1]), line, column, shown, "required key is missing"))
        else:
            line, column = loaded.position(loc, of_key=of_key)
            problems.append(Problem(loaded.file_at(loc), line, column, shown, _message(error)))
    return problems


def _data_path(data: Any, loc: tuple[str | int, ...]) -> tuple[str | int, ...]:
    """Keep the prefix of `loc` that names real nodes of the document, plus the first missing/extra key."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str):
            path.append(part)
            node = node.get(part)
            if node is None:
                break
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, int):
            continue
        elif node is None or not isinstance(node, (dict, list)):
            break
    return tuple(path)


def dotted(path: tuple[str | int, ...]) -> str:
    """A field path as problems show it: `environments[1].target`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def validate_loaded(loaded: LoadedSpec, semantic: bool = True, layout: str = "per-model", output: str = "generated"
                    ) -> ProjectSpec | list[Problem]:
    """Model validation then (unless `semantic` is off) the rules across fields: all problems of one file, or
    the spec. `layout` and `output`: the repository's, whose generated files the paths the spec chooses must not
    clash with."""
    problems = []
    reported: set[str] = set()  # paths already explained: the model's own (vaguer) error there is left out
    for path, message in spelling_findings(loaded):
        line, column = loaded.position(path)
        problems.append(Problem(loaded.file_at(path), line, column, dotted(path), message))
        reported.add(dotted(path))
    for path, is_key, kind in credentials_in(loaded.data):  # every string: names, tag keys, lists, free text
        line, column = loaded.position(path, of_key=is_key)
        shown = dotted(path[:-1]) if is_key else dotted(path)  # a key that is a secret is not echoed
        message = credential_message(kind)
        if not is_key and _expects_secret_name(path):
            message = f"is a secret's value, not its name: it {message}, then name that secret here"
        problems.append(Problem(loaded.file_at(path), line, column, shown, f"a key {message}" if is_key else message))
        reported.add(dotted(path))
    bad = [path for path, _ in spelling_findings(loaded)] + [p for p, _, _ in credentials_in(loaded.data)]
    try:
        spec = ProjectSpec.model_validate(loaded.data)
    except ValidationError as exc:
        problems += [p for p in problems_from_validation(loaded, exc) if p.path not in reported]
        bad += _error_paths(loaded.data, exc)
        if not semantic:
            return problems
        return problems + [p for p in _semantic_problems(loaded, _without(loaded.data, bad), bad, layout, output)
                           if p.path not in {known.path for known in problems}]
    if not semantic:
        return problems or spec
    if problems:
        return problems + _semantic_problems(loaded, _without(loaded.data, bad), bad, layout, output)
    return _semantic_problems(loaded, spec, [], layout, output) or spec


# Fields the cross-field rules of a whole spec, or of one environment, are decided by: when one of them is invalid,
# the rules would run on its default instead, and their findings there could be wrong, so they are not shown.
_DECISIVE = (("model", "name"), ("model", "task"), ("rollout", "strategy"), ("data", "target"))
_DECISIVE_IN_ENVIRONMENT = frozenset({"name", "target", "endpoint_name", "production", "approval", "cluster",
                                      "approval_waiver"})


def _semantic_problems(loaded: LoadedSpec, spec: ProjectSpec | None, bad: list[tuple[str | int, ...]],
                       layout: str = "per-model", output: str = "generated") -> list[Problem]:
    """The cross-field rules' findings on `spec`: when other problems were found, `spec` is the document without
    the invalid fields, so that one problem does not hide the others (findings that depend on an invalid field
    are left out: they would be about its default, not about what the author wrote)."""
    if spec is None or any(field[:len(path)] == path for path in bad for field in _DECISIVE):
        return []
    doubtful = {path[:2] for path in bad
                if len(path) >= 3 and path[0] == "environments" and path[2] in _DECISIVE_IN_ENVIRONMENT}
    problems = []
    for path, message in semantic_findings(spec, layout, output):
        # about an invalid field, inside one, or about a mapping or list that lost one: not what the author wrote
        if path[:2] in doubtful or any(path[:len(b)] == b or b[:len(path)] == path for b in bad):
            continue
        line, column = loaded.field_position(path)
        problems.append(Problem(loaded.file_at(path), line, column, dotted(path), message))
    return problems


def _error_paths(data: Any, exc: ValidationError) -> list[tuple[str | int, ...]]:
    paths = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if isinstance(part, (str, int)))
        if "[key]" in loc:
            loc = loc[:loc.index("[key]")]
        if error["type"] == "missing":
            return [()]  # a required key is missing: nothing to check the rest against
        paths.append(_data_path(data, loc))
    return paths


def _without(data: Any, bad: list[tuple[str | int, ...]]) -> ProjectSpec | None:
    """The spec the document would be without its invalid fields (each removed up to its nearest mapping key, so
    list indexes do not shift), or None when that still does not validate."""
    import copy

    pruned = copy.deepcopy(data)
    for path in bad:
        cut = max((i for i, part in enumerate(path) if isinstance(part, str)), default=-1)
        if cut < 1:
            return None  # a top-level section itself is invalid
        parent: Any = pruned
        for part in path[:cut]:
            try:
                parent = parent[part]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if isinstance(parent, dict):
            parent.pop(path[cut], None)
    try:
        return ProjectSpec.model_validate(pruned)
    except ValidationError:
        return None


def load_spec(path: Path, shown_as: str | None = None, config: ConfigFile | None = None) -> SpecFile:
    """Validate one spec file, resolved against the repository configuration when there is one, or raise
    SpecError with every problem in it."""
    loaded = load_file(path, shown_as)
    if isinstance(loaded, Problem):
        raise SpecError([loaded])
    result = validate_loaded(loaded) if config is None else config_settings(config).validate(loaded)
    if isinstance(result, list):
        raise SpecError(result)
    return SpecFile(path=path, shown_as=loaded.file, spec=result, raw=loaded.raw,
                    name_at=loaded.position(("model", "name")), config_raw=config.raw if config else b"")


def config_settings(config: ConfigFile) -> RepoSettings:
    """The validated configuration (cached), or SpecError with its problems."""
    # Imported here: mlops_gen.repo_config.load validates the configuration's defaults with this module.
    from mlops_gen.repo_config.load import load_settings

    return load_settings(config)


def discover(paths: Iterable[str]) -> list[Path]:
    """Expand files and directories (their *.yaml/*.yml, recursively, sorted) into spec files."""
    return discover_specs(paths)


def collect_specs(paths: Iterable[str], config: ConfigFile | None = None
                  ) -> tuple[list[SpecFile], list[Problem]]:
    """Validate every spec under `paths`: the valid ones, and the problems of all the others. A configuration
    with problems raises SpecError with them before any spec is read."""
    specs: list[SpecFile] = []
    problems: list[Problem] = []
    if config is not None:
        config_settings(config)
    for path in discover(paths):
        try:
            specs.append(load_spec(path, config=config))
        except SpecError as exc:
            problems.extend(exc.problems)
    return specs, problems


@dataclass(frozen=True)
class Valid:
    """A valid spec in brief: what `validate` reports, and what the duplicate-model rule needs."""

    shown_as: str
    model: str
    name_at: tuple[int, int]

    @classmethod
    def of(cls, spec_file: SpecFile) -> Valid:
        return cls(spec_file.shown_as, spec_file.spec.model.name, spec_file.name_at)


def duplicate_models(specs: Iterable[SpecFile | Valid], known: Mapping[str, str] | None = None) -> list[Problem]:
    """Two specs for one model would write one folder: a problem at each later spec's model.name, naming the first.

    `known` maps models of specs that were not loaded (their folders are up to date) to their spec path.
    """
    seen: dict[str, str] = dict(known or {})
    problems = []
    for spec in specs:
        brief = spec if isinstance(spec, Valid) else Valid.of(spec)
        if brief.model in seen:
            problems.append(Problem(brief.shown_as, *brief.name_at, "model.name",
                                    f"model {brief.model!r} is also defined in {seen[brief.model]}; each spec "
                                    "needs its own model name (it names the output folder)"))
        seen.setdefault(brief.model, brief.shown_as)
    return problems


def load_specs(paths: Iterable[str], config: ConfigFile | None = None) -> list[SpecFile]:
    """Validate every spec under `paths`, model names unique across them; raise one SpecError listing the
    problems of all invalid files."""
    specs, problems = collect_specs(paths, config)
    problems += duplicate_models(specs)
    if problems:
        raise SpecError(problems)
    return specs
