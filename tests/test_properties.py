"""Property tests over every free-text and name field of the spec: any text is either rejected by validation (a
positioned Problem, never another exception) or renders inert and exact.

For each drawn value the spec is rendered twice, once with the value and once with a harmless marker in its
place, and tests/hostile/oracle.py demands that the first is the second with the marker replaced by the value
in the form each language needs: the same files, YAML keys and structure, Python AST and shell words, no new
`${{`, `$(` or `$[`, the value exact after parsing. Only the targets where the field appears are rendered.

Profiles: the default runs ~200 examples per property; HYPOTHESIS_PROFILE=ci runs 2 500 per property,
10 000 in all (registered in tests/conftest.py).
"""

from __future__ import annotations

import copy
import functools
import typing
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st

from mlops_gen.errors import Problem
from mlops_gen.render.environment import build_env
from mlops_gen.render.plan import TARGETS, plan
from mlops_gen.render.render import render_spec
from mlops_gen.spec import types
from mlops_gen.spec.loader import LoadedSpec, load_text
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.spec.validate import SpecFile, validate_loaded
from tests.conftest import ROOT
from tests.hostile import oracle

BASE: dict[str, Any] = {
    "apiVersion": "mlops-gen/v1",
    "kind": "ModelPipeline",
    "model": {"name": "churn-model", "description": "Predicts churn", "owners": ["ml-team@company.com"]},
    "platforms": ["azure_devops", "github_actions"],
    "azure": {"resource_group": "rg-ml", "workspace": "mlw-ml", "location": "westeurope",
              "service_connection": "azure-ml", "registry": "acrml01", "subscription_id":
              "00000000-0000-0000-0000-000000000000"},
    "data": {"dataset": "training-data", "local_path": "data/train.csv", "target": "churned",
             "expectations": "config/data_expectations.json"},
    "triggers": {"branches": ["main"], "paths": ["src/**"], "schedule": "0 3 * * 1"},
    "training": {"experiment": "churn-exp", "compute": "cpu-cluster", "config": "config/training_config.yaml"},
    "quality_gates": {"metrics": {"accuracy": {"min": 0.8}}},
    "fairness": {"sensitive_features": ["age", "gender"]},
    "registry": {"tags": {"team": "ml-platform"}, "aliases": {"staging": "staging", "production": "production"}},
    "environments": [
        {"name": "staging", "production": False},
        {"name": "aks-prod", "target": "aks", "cluster": "aks-ml", "namespace": "ml-models", "production": True,
         "approval": "none", "approval_waiver": "Shadow traffic only", "endpoint_name": "churn-prod",
         "gateway": {"name": "edge-gateway", "hostnames": ["churn.models.example.com"]}},
        # azure.location reaches only ACI deployments (endpoints and clusters live where the workspace is).
        {"name": "sandbox", "target": "aci", "production": False},
    ],
    "rollout": {"strategy": "canary"},
    "monitoring": {"alerts": {"email": ["alerts@company.com"]}},
    "notifications": {"email": ["ml-team@company.com"], "channel": "teams", "webhook_secret": "TEAMS_WEBHOOK"},
    "extensions": {
        "before_training": [{"name": "Check data", "script": "scripts/check.sh"}],
        "after_production_deployment": [{"name": "Announce", "script": "scripts/announce.py"}],
    },
}


@dataclass(frozen=True)
class Field:
    """Where a value goes in the spec, the marker that stands in for it, and which derived forms to expect."""

    path: str
    marker: str
    derived: bool = False  # templates turn it into PascalCase / snake_case identifiers too
    key: bool = False  # the value is a mapping key (registry tag keys)
    kind: Any = None  # the constrained type of mlops_gen.spec.types, whose pattern generates plausible names
    suffix: str | None = None  # a file the generator writes: its type is fixed (other suffixes: test_hostile)

    def put(self, data: dict[str, Any], value: str) -> None:
        if self.key:
            container = oracle.get_field(data, self.path)
            container.clear()
            container[value] = "ml-platform"
        else:
            oracle.set_field(data, self.path, value)

    def marker_for(self, value: str) -> str:
        """Extension scripts keep the value's suffix: '.sh' and '.py' steps render differently, by design."""
        if self.path.endswith(".script") and value.endswith((".sh", ".py")):
            return self.marker.rsplit(".", 1)[0] + value[-3:]
        return self.marker

    def substitutions(self, marker: str, value: str) -> dict[str, str]:
        return oracle.derived(marker, value) if self.derived else {marker: value}


FREE_TEXT = [
    Field("model.description", "zqmark text"),
    Field("environments[1].approval_waiver", "zqmark waiver"),
    Field("extensions.before_training[0].name", "zqmark step"),
    Field("extensions.after_production_deployment[0].name", "zqmark last"),
]
NAMES = [
    Field("model.name", "zq-mark", derived=True, kind=types.ModelName),
    Field("model.owners[0]", "zqmark@example.com", kind=types.Owner),
    Field("environments[0].name", "zq-mark", derived=True, kind=types.EnvironmentName),
    Field("environments[1].endpoint_name", "zq-mark-ep", kind=types.EndpointName),
    Field("environments[1].cluster", "zq-mark-aks", kind=types.ClusterName),
    Field("environments[1].namespace", "zq-mark-ns", kind=types.K8sName),
    Field("environments[1].gateway.name", "zq-mark-gw", kind=types.K8sName),
    Field("environments[1].gateway.hostnames[0]", "zq-mark.example.com", kind=types.Hostname),
    Field("azure.resource_group", "zq-mark-rg", kind=types.ResourceGroup),
    Field("azure.workspace", "zq-mark-ws", kind=types.WorkspaceName),
    Field("azure.service_connection", "zq-mark-conn", kind=types.ServiceConnection),
    Field("azure.registry", "zqmarkacr", kind=types.RegistryName),
    Field("azure.location", "zqmarkloc", kind=types.Location),
    Field("data.dataset", "zq-mark-ds", kind=types.AssetName),
    Field("data.target", "zq_mark_target", kind=types.ColumnName),
    Field("data.local_path", "data/zq-mark.csv", kind=types.RelativePath, suffix=".csv"),
    Field("data.expectations", "config/zq-mark.json", kind=types.RelativePath, suffix=".json"),
    Field("training.compute", "zq-mark-cc", kind=types.ComputeName),
    Field("training.experiment", "zq-mark-exp", kind=types.AssetName),
    Field("training.config", "config/zq-mark.yaml", kind=types.RelativePath, suffix=".yaml"),
    Field("triggers.branches[0]", "zq-mark-branch", derived=True, kind=types.BranchName),
    Field("triggers.paths[0]", "zq-mark/**", kind=types.PathFilter),
    Field("fairness.sensitive_features[0]", "zq_mark_feature", kind=types.ColumnName),
    Field("registry.tags", "zq-mark-key", key=True, kind=types.TagKey),
    Field("registry.tags.team", "zq-mark-value", kind=types.TagValue),
    Field("registry.aliases.production", "zq-mark-alias", kind=types.AliasName),
    Field("notifications.email[0]", "zqmark@example.com", kind=types.Email),
    Field("monitoring.alerts.email[0]", "zqmark-alert@example.com", kind=types.Email),
    Field("notifications.webhook_secret", "ZQMARK_SECRET", kind=types.SecretName),
    Field("extensions.before_training[0].script", "scripts/zq-mark.sh", kind=types.RelativePath),
]

# Pieces that break languages: quotes, expressions, YAML indicators, shell and template syntax, odd unicode.
FRAGMENTS = ["${{", "}}", "$(", ")", "$[", "]", "${", "$", "'", '"', "`", "\\", "\n", "\r", "\t", "\x00",
             "; rm -rf /", " && ", " | ", "#", ": ", "- ", "? ", "&a", "*a", "!!python/object", "{{", "{%",
             "%}", "<script>", "</x>", "[x](y)", "|", "..", "/", "~", "*", "x", "prod", "a-b", "A_B", "-", "_",
             ".", "@", "e@x.io", "::set-output name=x::", "##vso[", "\u202e", "\u200b", "\u2028", "ü", "🚀",
             "--help", "=", "%", "\x1b[31m", " ", "0", "sh", ".py", ".sh", "\ufeff", "'''", '"""', "\\n"]
fragments = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=8).map("".join)
printable = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
nameish = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.@/*-]{0,30}", fullmatch=True)
any_text = st.one_of(fragments, printable, nameish,
                     st.tuples(nameish, fragments).map("".join), st.tuples(fragments, nameish).map("".join))


# Printable text without the characters free text refuses: most of it validates, so the oracle gets work.
free_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Cf", "Zl", "Zp"]),
                    min_size=1, max_size=60)


def _schema_of(kind: Any) -> dict[str, Any]:
    for extra in typing.get_args(kind)[1:]:
        if hasattr(extra, "json_schema") and extra.json_schema:
            return dict(extra.json_schema)
    raise AssertionError(f"{kind} carries no JSON schema")


def values_for(field: Field) -> st.SearchStrategy[str]:
    """Mostly values the field's own pattern allows (so they render), plus hostile text and near misses."""
    if field.kind is None:
        return any_text
    schema = _schema_of(field.kind)
    low, high = schema.get("minLength", 0), schema.get("maxLength", 64)
    plausible = st.from_regex(schema["pattern"], fullmatch=True).filter(lambda v: low <= len(v) <= high)
    if field.path.endswith(".script") or field.suffix:
        suffixes = [field.suffix] if field.suffix else [".sh", ".py"]
        plausible = st.tuples(plausible.filter(lambda v: len(v) <= high - 5), st.sampled_from(suffixes)).map("".join)
    near_miss = st.tuples(plausible, fragments, plausible).map("".join)
    return st.one_of(plausible, plausible, plausible, plausible, plausible, near_miss, any_text)


def _spec_file(data: dict[str, Any]) -> SpecFile | list[Problem]:
    result = validate_loaded(LoadedSpec(file="spec.yaml", data=data))
    if isinstance(result, list):
        assert result and all(isinstance(problem, Problem) and problem.line >= 1 for problem in result)
        return result
    return SpecFile(path=ROOT / "spec.yaml", shown_as="spec.yaml", spec=result, raw=b"constant")


@functools.lru_cache(maxsize=1)
def _env() -> Any:
    return build_env()


def _render(spec_file: SpecFile, targets: tuple[str, ...]) -> dict[str, str]:
    return {path: file.text for path, file in render_spec(spec_file, targets, _env()).items()}


_marker_renders: dict[str, dict[str, str]] = {}


def _marker_render(data: dict[str, Any], targets: tuple[str, ...]) -> dict[str, str]:
    """The marker twin depends only on which fields hold markers: render it once per field set."""
    key = repr((data, targets))
    if key not in _marker_renders:
        spec_file = _spec_file(data)
        assert isinstance(spec_file, SpecFile), spec_file
        _marker_renders[key] = _render(spec_file, targets)
    return _marker_renders[key]


@functools.cache
def _generated_paths() -> frozenset[str]:
    spec_file = _spec_file(copy.deepcopy(BASE))
    assert isinstance(spec_file, SpecFile)
    return frozenset(output.path for output in plan(spec_file.spec, TARGETS))


@functools.cache
def _targets_of(marker_key: tuple[str, str]) -> tuple[str, ...]:
    """The targets whose output mentions the field: only these need rendering for it."""
    field = next(f for f in FREE_TEXT + NAMES if (f.path, f.marker) == marker_key)
    data = copy.deepcopy(BASE)
    field.put(data, field.marker)
    spec_file = _spec_file(data)
    assert isinstance(spec_file, SpecFile), spec_file
    forms = field.substitutions(field.marker, field.marker)
    rendered = render_spec(spec_file, TARGETS, _env())
    return tuple(sorted({file.target for file in rendered.values() if any(f in file.text for f in forms)}))


def check_inert(fields_and_values: list[tuple[Field, str]]) -> bool:
    """Validate the spec with the values; if valid, render it and its marker twin and compare. True if rendered."""
    hostile = copy.deepcopy(BASE)
    markers = copy.deepcopy(BASE)
    subs: dict[str, str] = {}
    targets: set[str] = set()
    for field, value in fields_and_values:
        field.put(hostile, value)
        marker = field.marker_for(value)
        field.put(markers, marker)
        subs.update(field.substitutions(marker, value))
        targets.update(_targets_of((field.path, field.marker)))
    hostile_file = _spec_file(hostile)
    event("rejected" if isinstance(hostile_file, list) else "rendered")
    if isinstance(hostile_file, list):
        return False
    chosen = tuple(sorted(targets)) or TARGETS
    note(f"targets: {chosen}")
    problems = oracle.compare(_marker_render(markers, chosen), _render(hostile_file, chosen), subs)
    assert not problems, "\n".join(problems)
    return True


_settings = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much], deadline=None)


@_settings
@given(st.sampled_from(FREE_TEXT), st.one_of(any_text, free_text))
def test_free_text_is_rejected_or_inert(field: Field, value: str) -> None:
    note(f"{field.path} = {value!r}")
    assume(value != "")  # an empty description leaves its README section out, by design
    check_inert([(field, value)])


@_settings
@given(st.sampled_from(NAMES).flatmap(lambda field: st.tuples(st.just(field), values_for(field))))
def test_names_are_rejected_or_inert(drawn: tuple[Field, str]) -> None:
    field, value = drawn
    note(f"{field.path} = {value!r}")
    assume(value not in {"staging", "aks-prod", "age", "gender", "churned", "team"})  # collisions change meaning
    assume(not (field.path.startswith("triggers.branches") and "*" in value))  # a glob is matched, not dispatched
    assume(not (field.path == "azure.service_connection" and "." in value))  # README derives a dot-free name
    # Path fields name files the generator writes: a clash with another generated file or another file type is
    # a known, reported crash (see test_hostile.test_path_fields_that_clash_with_generated_files_are_user_errors).
    assume(field.suffix is None or (value.endswith(field.suffix) and value not in _generated_paths()))
    check_inert([(field, value)])


@_settings
@given(st.lists(st.one_of(free_text, free_text, fragments), min_size=len(FREE_TEXT), max_size=len(FREE_TEXT)))
def test_all_free_text_at_once(values: list[str]) -> None:
    note(repr(values))
    assume("" not in values)
    check_inert(list(zip(FREE_TEXT, values, strict=True)))


@_settings
@given(st.dictionaries(st.sampled_from([f.path for f in FREE_TEXT + NAMES if not f.key]),
                       st.one_of(any_text, st.integers(), st.none(), st.lists(any_text, max_size=2),
                                 st.dictionaries(any_text, any_text, max_size=2), st.floats(), st.booleans()),
                       min_size=1, max_size=6))
def test_validation_never_raises(values: dict[str, Any]) -> None:
    """Any value of any type anywhere: a validated spec or positioned Problems, nothing else escapes."""
    data = copy.deepcopy(BASE)
    for path, value in values.items():
        oracle.set_field(data, path, value)
    result = validate_loaded(LoadedSpec(file="spec.yaml", data=data))
    assert isinstance(result, ProjectSpec) or (result and all(isinstance(p, Problem) for p in result))


def test_base_spec_is_valid_and_every_field_reaches_the_output() -> None:
    """Otherwise the properties above would compare renders that do not contain the values at all (and a spec
    field that reaches no output is dead weight in the spec)."""
    spec_file = _spec_file(copy.deepcopy(BASE))
    assert isinstance(spec_file, SpecFile), spec_file
    silent = [f.path for f in FREE_TEXT + NAMES if not _targets_of((f.path, f.marker))]
    assert not silent, f"these fields appear in no generated file: {silent}"


# ----- YAML 1.1 spellings (issue 13, item 4): a boolean or a 1.1-only number spelling never becomes a number -----

NUMBER_FIELDS = ["quality_gates.metrics.accuracy.min", "fairness.threshold", "rollout.increments[0]",
                 "rollout.monitor.duration_seconds", "rollout.monitor.max_latency_ms", "rollout.monitor.max_error_rate",
                 "monitoring.drift.threshold", "training.timeout_minutes", "environments[0].instance_count",
                 "champion_challenger.min_improvement", "explainability.top_features"]
TEXT_FIELDS = ["model.description", "environments[0].approval_waiver", "data.version", "model.owners[0]"]
_BOOLEAN_WORDS = ["yes", "no", "on", "off", "true", "false"]
boolean_spelling = st.sampled_from(_BOOLEAN_WORDS).flatmap(
    lambda word: st.sampled_from([word, word.upper(), word.capitalize()]))
number_spelling = st.one_of(
    st.integers(1, 4095).map(lambda n: "0" + format(n, "o")),  # octal: 0777, 010
    st.tuples(st.integers(1, 99), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),  # base 60
    st.integers(1, 999).map(lambda n: f"{n}_0"),  # 1_0 is 10 to YAML 1.1
    st.integers(1, 15).map(lambda n: "0b" + format(n, "b")),
)


def _spec_text_with(path: str, spelling: str) -> str:
    data = copy.deepcopy(BASE)
    data["rollout"]["increments"] = [10, 50, 100]
    oracle.set_field(data, path, "zqspelling")
    return yaml.safe_dump(data, sort_keys=False).replace("zqspelling", spelling)


@_settings
@given(st.sampled_from(NUMBER_FIELDS + TEXT_FIELDS), st.one_of(boolean_spelling, number_spelling))
def test_yaml11_spellings_are_positioned_errors(path: str, spelling: str) -> None:
    """Where a number or text is expected, `no`, `0777`, `1:30`... are errors at that field, naming the spelling."""
    text = _spec_text_with(path, spelling)
    loaded = load_text(text, "spec.yaml")
    assert isinstance(loaded, LoadedSpec), loaded
    result = validate_loaded(loaded)
    assert not isinstance(result, ProjectSpec), f"{path}: {spelling} was accepted"
    mine = [p for p in result if p.path == path]
    assert mine and repr(spelling) in mine[0].message, result
    assert text.splitlines()[mine[0].line - 1].count(spelling), mine[0]


@_settings
@given(st.sampled_from(["fairness.enabled", "explainability.enabled", "triggers.pull_requests",
                        "rollout.auto_rollback"]), boolean_spelling)
def test_booleans_stay_booleans_where_a_boolean_is_expected(path: str, spelling: str) -> None:
    loaded = load_text(_spec_text_with(path, spelling), "spec.yaml")
    assert isinstance(loaded, LoadedSpec)
    assert isinstance(validate_loaded(loaded), ProjectSpec)


_CRON_ITEM = st.one_of(st.just("*"), st.integers(0, 99).map(str), st.sampled_from(["1-5", "*/15", "0,30", "9-17/2"]))
_UNICODE_DIGITS_AND_SPACES = st.characters(
    categories=["Nd", "No", "Zs"]).filter(lambda char: char not in "0123456789 ")


@_settings
@given(fields=st.lists(_CRON_ITEM, min_size=5, max_size=5), at=st.integers(0, 40), char=_UNICODE_DIGITS_AND_SPACES)
def test_cron_with_any_non_ascii_digit_or_space_is_refused_with_a_message(fields: list[str], at: int,
                                                                        char: str) -> None:
    """Issue 13 item 7 and neighbours: full-width, superscript, Arabic-Indic, circled digits and Unicode spaces."""
    expression = " ".join(fields)
    at = min(at, len(expression))
    hostile = expression[:at] + char + expression[at:]
    problem = types.cron_problem(hostile)  # never raises (int() on '²' did)
    assert problem is not None, hostile
    assert "invalid literal" not in problem
