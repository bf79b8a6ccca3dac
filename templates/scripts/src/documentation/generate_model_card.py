#!/usr/bin/env python3
"""Write the model card (Markdown): intended use, data, training, metrics against gates, fairness,
explainability and lineage, from config/pipeline.yaml and the stage outputs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, describe, guarded
from common.files import read_json, read_yaml, write_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--version-file", help="version file from register_model.py")
    parser.add_argument("--metrics-file", required=True, help="metrics JSON")
    parser.add_argument("--fairness-file", help="fairness report JSON")
    parser.add_argument("--explainability-file", help="explainability report JSON")
    parser.add_argument("--pipeline-config", required=True, help="config/pipeline.yaml")
    parser.add_argument("--output", required=True, help="Markdown file to write")
    return add_common_arguments(parser)


def _optional(path: str | None) -> Any:
    return read_json(path) if path and Path(path).exists() else None


def _gate(value: float | None, bound: dict[str, float]) -> str:
    if value is None:
        return "missing"
    ok = value >= bound.get("min", float("-inf")) and value <= bound.get("max", float("inf"))
    return "pass" if ok else "FAIL"


def render(name: str, config: dict[str, Any], metrics: dict[str, float], version: Any, fairness: Any,
           explainability: Any) -> str:
    model, data, training = config["model"], config["data"], config["training"]
    gates = config.get("quality_gates") or {}
    title = f"# Model card: {name}" + (f" version {version['version']}" if version else "")
    lines = [title, "", model.get("description") or "No description given in the spec.", "",
             "## Model details", "",
             f"- Task: {model['task']}; framework: {model.get('framework', 'scikit-learn')}",
             f"- Owners: {', '.join(model.get('owners') or []) or 'not set'}",
             f"- Experiment: {training['experiment']}; training config: `{training['config']}`"]
    if version:
        tags = version.get("tags") or {}
        lines += [f"- Registry: `{version['model_uri']}` from run `{version['run_id']}`",
                  "- Lineage: " + ", ".join(f"{key}={tags[key]}" for key in
                                            ("build_id", "build_number", "branch", "commit", "spec_hash")
                                            if key in tags)]
    lines += ["", "## Intended use", "",
              f"Predicts `{data['target']}` for {model.get('description') or model['task']}. Deployed to: "
              + ", ".join(f"{env['name']} ({env['target']})" for env in config.get("environments") or []) + ".",
              "", "## Training data", "",
              f"- Azure ML data asset `{data['dataset']}` version {data['version']}; local copy `{data['local_path']}`",
              f"- Label `{data['target']}`; {data['test_size']:.0%} held out for evaluation",
              f"- Validated against `{data['expectations']}`", "", "## Metrics", "",
              "| Metric | Value | Gate | Result |", "|---|---:|---|---|"]
    for metric in sorted(set(metrics) | set(gates)):
        bound = gates.get(metric, {})
        rule = " and ".join(f"{'>=' if k == 'min' else '<='} {v:g}" for k, v in bound.items()) or "-"
        value = metrics.get(metric)
        lines.append(f"| {metric} | {'-' if value is None else f'{value:.4f}'} | {rule} | "
                     f"{_gate(value, bound) if bound else '-'} |")
    lines += ["", "## Fairness", ""]
    if fairness:
        lines += [f"Metric `{fairness['metric']}`, threshold {fairness['threshold']:g} (1.0 is perfectly fair).", "",
                  "| Sensitive feature | Value | Result | Groups (selection rate) |", "|---|---:|---|---|"]
        for feature, item in fairness["features"].items():
            groups = "; ".join(f"{g}: {v['selection_rate']:.2f}" for g, v in item["groups"].items())
            lines.append(f"| {feature} | {item['value']:.4f} | {'pass' if item['passed'] else 'FAIL'} | {groups} |")
    elif config.get("fairness"):
        lines.append("The fairness assessment did not produce a report.")
    else:
        lines.append("No fairness gate is configured in the spec.")
    lines += ["", "## Explainability", ""]
    if explainability:
        lines += [f"{explainability['method'].capitalize()} importance, top features:", ""]
        lines += [f"{rank}. `{item['feature']}`: {item['importance']:.4f}"
                  for rank, item in enumerate(explainability["top_features"], start=1)]
    else:
        lines.append("No explainability report was produced.")
    lines += ["", "## Limitations and monitoring", "",
              f"- Drift monitoring: {'on' if config['monitoring']['drift']['enabled'] else 'off'} "
              f"({config['monitoring']['drift']['method']}, threshold {config['monitoring']['drift']['threshold']:g})",
              "- Metrics are measured on a held-out split of the training data, not on production traffic."]
    return "\n".join(lines) + "\n"


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    card = render(args.model_name, read_yaml(args.pipeline_config), read_json(args.metrics_file),
                  _optional(args.version_file), _optional(args.fairness_file), _optional(args.explainability_file))
    write_text(args.output, card)
    print(f"wrote model card {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
