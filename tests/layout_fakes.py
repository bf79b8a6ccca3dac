"""Small fake monorepo hooks for the layout tests: the plumbing (composer, units, writer, check, diff, switch) is
tested on its own, whatever the real targets' monorepo hooks render.

`fake_hooks` replaces the composer's view of the target modules: a shared script and a reusable workflow
(target scripts), a thin caller per model (github_actions), a README naming the gates and a seeded training config
(docs), the plan (the MONOREPO_ONLY module plan_file) and the real k8s hook. Their templates live in an
--override-dir, so a test can change a "shared template" like a template fix would.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

import pytest

from mlops_gen.layout import monorepo
from mlops_gen.layout.paths import Monorepo
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets import k8s

OVERRIDES = "overrides"
TEMPLATES = {
    "mono-test/hello.py.j2": 'print("shared by every model in {{ repo.out }}")\n',
    "mono-test/pipeline.yml.j2": ("on:\n  workflow_call:\n    inputs:\n      model:\n        type: string\n"
                                  "        required: true\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n"
                                  "      - run: echo gate one\n"),
    "mono-test/caller.yml.j2": ("name: {{ model.name }}\non: push\njobs:\n  pipeline:\n"
                                "    uses: ./{{ repo.shared_workflow('pipeline.yml') }}\n"
                                "    with:\n      model: {{ model.name }}\n"),
    "mono-test/readme.md.j2": "# {{ model.name }}\n\n{% for gate in gates %}- {{ gate.metric }} >= {{ gate.min }}\n"
                              "{% endfor %}",
    "mono-test/seed.yaml.j2": "epochs: 3\n",
    "mono-test/plan.json.j2": '{"model": "{{ model.name }}", "layout": "{{ layout }}"}\n',
}
SHARED_SCRIPT = "generated/_shared/src/hello.py"
SHARED_WORKFLOW = ".github/workflows/mlops.pipeline.yml"


def caller(model: str) -> str:
    return f".github/workflows/mlops-{model}.yml"


def _scripts_shared(repo: Monorepo) -> list[OutputFile]:
    return [OutputFile(repo.shared("src/hello.py"), "mono-test/hello.py.j2", "scripts"),
            OutputFile(repo.shared_workflow("pipeline.yml"), "mono-test/pipeline.yml.j2", "scripts")]


def _caller(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    return [OutputFile(repo.caller(spec.model.name), "mono-test/caller.yml.j2", "github_actions")]


def _docs(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    name = spec.model.name
    return [OutputFile(repo.model(name, "README.md"), "mono-test/readme.md.j2", "docs"),
            OutputFile(repo.model(name, spec.training.config), "mono-test/seed.yaml.j2", "docs", mode="seeded")]


def _plan(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    return [OutputFile(repo.model(spec.model.name, "config/plan.json"), "mono-test/plan.json.j2", "plan_file")]


FAKES: dict[str, Any] = {
    "scripts": types.SimpleNamespace(monorepo_shared=_scripts_shared),
    "github_actions": types.SimpleNamespace(monorepo_model=_caller),
    "docs": types.SimpleNamespace(monorepo_model=_docs),
    "plan_file": types.SimpleNamespace(monorepo_model=_plan),
    "k8s": k8s,
}


def install(work: Path, monkeypatch: pytest.MonkeyPatch, fakes: dict[str, Any] | None = None) -> Path:
    """Write the fake templates under work/overrides and make the composer see only the fake hook modules."""
    overrides = work / OVERRIDES
    for relative, text in TEMPLATES.items():
        (overrides / relative).parent.mkdir(parents=True, exist_ok=True)
        (overrides / relative).write_text(text, encoding="utf-8")
    table = FAKES if fakes is None else fakes
    monkeypatch.setattr(monorepo, "_module", lambda name: table.get(name))
    return overrides


def repository(work: Path, layout: str = "monorepo", extra: str = "") -> Path:
    """A repository root at `work`: `.git` (where configuration discovery stops) and mlops-gen.yaml."""
    (work / ".git").mkdir(exist_ok=True)
    config = work / "mlops-gen.yaml"
    config.write_text(f"apiVersion: mlops-gen/v1\nkind: RepositoryConfig\nlayout: {layout}\n{extra}",
                      encoding="utf-8")
    return config


def set_layout(work: Path, layout: str) -> None:
    config = work / "mlops-gen.yaml"
    text = config.read_text(encoding="utf-8")
    old = "monorepo" if layout == "per-model" else "per-model"
    config.write_text(text.replace(f"layout: {old}", f"layout: {layout}"), encoding="utf-8")
