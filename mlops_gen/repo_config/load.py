"""Validating `mlops-gen.yaml` and applying it to specs: the configuration's own problems are reported once, at
its own lines; a spec is then resolved against its defaults and checked against its policies.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from mlops_gen.errors import Problem, SpecError
from mlops_gen.repo_config.find import ConfigFile
from mlops_gen.repo_config.merge import DEFAULTS, NOT_INHERITED, resolved
from mlops_gen.repo_config.model import RepositoryConfig
from mlops_gen.repo_config.policies import breaches
from mlops_gen.spec.loader import LoadedSpec, Path_, load_bytes
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.spec.secrets import credential_message, credentials_in
from mlops_gen.spec.spellings import spelling_findings
from mlops_gen.spec.validate import dotted, problems_from_validation, validate_loaded

# What the defaults are checked inside: the fields a spec cannot inherit, plus one environment when the defaults
# give none. Findings about these are not the configuration's.
_SKELETON: dict[str, Any] = {"apiVersion": "mlops-gen/v1", "kind": "ModelPipeline", "model": {"name": "defaults"}}
_SKELETON_ENVIRONMENTS = [{"name": "dev"}]


@dataclass(frozen=True)
class RepoSettings:
    """A valid configuration: its file, its model, and its document (for positions)."""

    file: ConfigFile
    config: RepositoryConfig
    document: LoadedSpec

    def validate(self, spec: LoadedSpec) -> ProjectSpec | list[Problem]:
        """The spec resolved against the defaults, or its problems: the spec's own, those an inherited value
        causes in it (shown at the configuration's line), and every policy it breaks (shown at its field)."""
        merged = resolved(self.document, spec)
        result = validate_loaded(merged, layout=self.config.layout, output=self.config.output)
        if isinstance(result, list):
            return [self._inherited(problem, spec.file) for problem in result]
        problems = []
        for path, policy, message in breaches(result, self.config.policies):
            line, column = merged.field_position(path)
            at = self.document.key_positions.get(("policies", policy), (1, 1))[0]
            problems.append(self._inherited(Problem(merged.file_at(path), line, column, dotted(path),
                                                    f"{message} (policy {policy}, {self.file.shown_as}:{at})"),
                                            spec.file))
        return problems or result

    def _inherited(self, problem: Problem, spec: str) -> Problem:
        if problem.file != self.document.file:
            return problem
        return Problem(problem.file, problem.line, problem.column, _under_defaults(problem.path),
                       f"{problem.message} (inherited by {spec})")


def _in_defaults(path: str) -> bool:
    return path == "defaults" or path.startswith(("defaults.", "defaults["))


def _under_defaults(path: str) -> str:
    return f"defaults.{path}" if path else "defaults"


@functools.lru_cache(maxsize=4)
def load_settings(file: ConfigFile) -> RepoSettings:
    """The validated configuration, or SpecError with every problem of the file."""
    if not file.raw.strip():
        raise SpecError([Problem(file.shown_as, 1, 1, "", "the configuration is empty; it needs at least "
                                                          "'apiVersion: mlops-gen/v1' and 'kind: RepositoryConfig'")])
    document = load_bytes(file.raw, file.shown_as)  # the bytes hashed into the manifests, not a second read
    if isinstance(document, Problem):  # the loader speaks of specs: this one is the configuration
        raise SpecError([Problem(document.file, document.line, document.column, document.path,
                                 document.message.replace("a spec must be", "the configuration must be"))])
    problems = _own_problems(document)
    try:
        config = RepositoryConfig.model_validate(document.data)
    except ValidationError as exc:
        problems += problems_from_validation(document, exc, RepositoryConfig)
        # The defaults are checked too, in the same report, unless they are what failed (then their fields are
        # not there to check): one pass shows every problem of the file.
        if isinstance(document.data.get("defaults"), dict) and not any(_in_defaults(p.path) for p in problems):
            problems += _defaults_problems(document)
        raise SpecError(problems) from None
    problems += _defaults_problems(document)
    if problems:
        raise SpecError(problems)
    return RepoSettings(file=file, config=config, document=document)


def _own_problems(document: LoadedSpec) -> list[Problem]:
    found = [(path, message) for path, message in spelling_findings(document, RepositoryConfig)
             if path[:1] != DEFAULTS]  # the defaults' spellings are checked as spec fields below
    found += [(path, credential_message(kind)) for path, _, kind in credentials_in(document.data)]
    return [Problem(document.file, *document.position(path), dotted(path), message) for path, message in found]


def _defaults_problems(document: LoadedSpec) -> list[Problem]:
    """The defaults checked as a spec would be, inside a skeleton that gives what a spec cannot inherit."""
    defaults = document.data.get("defaults") or {}
    problems = [Problem(document.file, *document.position((*DEFAULTS, *path), of_key=True),
                        dotted((*DEFAULTS, *path)), "cannot be inherited: each spec sets its own")
                for path in NOT_INHERITED if _has(defaults, path)]
    if "model" in defaults and not isinstance(defaults["model"], dict):  # the skeleton's own model would hide it
        problems.append(Problem(document.file, *document.position((*DEFAULTS, "model")), "defaults.model",
                                "must be a mapping of keys to values"))
    skeleton: dict[str, Any] = {**_SKELETON, "model": dict(_SKELETON["model"])}
    if "environments" not in defaults:
        skeleton["environments"] = _SKELETON_ENVIRONMENTS
    # Field by field only: rules across fields are checked on each resolved spec, which may supply what the
    # defaults leave out (a fairness gate's sensitive features, the training subscription).
    checked = validate_loaded(resolved(document, LoadedSpec(file="<skeleton>", data=skeleton)), semantic=False)
    if isinstance(checked, list):
        problems += [Problem(p.file, p.line, p.column, _under_defaults(p.path), p.message)
                     for p in checked if p.file == document.file]
    return problems


def _has(data: Any, path: Path_) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True
