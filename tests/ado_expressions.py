"""A small evaluator of the Azure Pipelines runtime conditions the generated pipelines use, and a simulation of
which stages of a run start.

It covers the subset we generate (`and`, `or`, `not`, `eq`, `ne`, `in`, the status functions, string literals,
`variables['name']` and `dependencies.<stage>.result`) and refuses anything else. Semantics, as documented
(https://learn.microsoft.com/azure/devops/pipelines/process/expressions and .../conditions): string comparison
ignores case; a stage without `condition` runs when its dependencies succeeded (`succeeded()`); a stage's own
condition replaces that default; stages without `dependsOn` depend on the stage before them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.expression_tokens import tokens

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>[(),\[\]])|(?P<name>[A-Za-z_][A-Za-z0-9_.-]*))")
OK = ("Succeeded", "SucceededWithIssues")


class _Parser:
    def __init__(self, text: str, variables: Mapping[str, str], dependencies: Mapping[str, str],
                 status: Mapping[str, bool]) -> None:
        self.items, self.pos = tokens(text, TOKEN), 0
        self.variables, self.dependencies, self.status = variables, dependencies, status

    def take(self, value: str | None = None) -> tuple[str, str]:
        item = self.items[self.pos]
        if value is not None and item[1] != value:
            raise ValueError(f"expected {value!r} at {item!r}")
        self.pos += 1
        return item

    def parse(self) -> Any:
        value = self.value()
        if self.pos != len(self.items):
            raise ValueError(f"unexpected {self.items[self.pos]!r}")
        return value

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        if text == "variables":
            self.take("[")
            name = self.value()
            self.take("]")
            return self.variables.get(name, "")
        if text.startswith("dependencies."):
            _, stage, field = text.split(".")
            assert field == "result", text
            if stage not in self.dependencies:
                raise ValueError(f"{stage} is not a dependency: its result is not available")
            return self.dependencies[stage]
        self.take("(")
        args = []
        while self.items[self.pos] != ("op", ")"):
            args.append(self.value())
            if self.items[self.pos] == ("op", ","):
                self.take()
        self.take(")")
        return self.call(text, args)

    def call(self, name: str, args: list[Any]) -> Any:
        if name in self.status and not args:
            return self.status[name]
        if name == "and":
            return all(args)
        if name == "or":
            return any(args)
        if name == "not" and len(args) == 1:
            return not args[0]
        if name in ("eq", "ne") and len(args) == 2:
            same = str(args[0]).lower() == str(args[1]).lower()
            return same if name == "eq" else not same
        if name == "in" and len(args) >= 2:
            return str(args[0]).lower() in {str(arg).lower() for arg in args[1:]}
        raise ValueError(f"function {name} is not in the evaluated subset")


def evaluate(text: str, variables: Mapping[str, str], dependencies: Mapping[str, str] | None = None,
             status: Mapping[str, bool] | None = None) -> Any:
    status = status or {"succeeded": True, "failed": False, "canceled": False, "always": True,
                        "succeededOrFailed": True}
    return _Parser(text, variables, dependencies or {}, status).parse()


def depends_on(stages: list[dict[str, Any]], index: int) -> list[str]:
    stage = stages[index]
    if "dependsOn" not in stage:
        return [stages[index - 1]["stage"]] if index else []
    found = stage["dependsOn"]
    return [found] if isinstance(found, str) else list(found or [])


def simulate(document: Mapping[str, Any], parameters: Mapping[str, str],
             failing: frozenset[str] = frozenset()) -> dict[str, str]:
    """Each stage's result in a run that is not cancelled: 'Succeeded' or 'Failed' (the stages in `failing`) for the
    stages whose condition holds, 'Skipped' for the others. Pipeline variables holding `${{ parameters.x }}` take
    the run's parameter values, as Azure expands them before the run."""
    variables = {}
    for name, value in (document.get("variables") or {}).items():
        text = str(value)
        match = re.fullmatch(r"\$\{\{\s*parameters\.(\w+)\s*\}\}", text)
        variables[name] = parameters[match.group(1)] if match else text
    stages = document["stages"]
    results: dict[str, str] = {}
    for index, stage in enumerate(stages):
        needs = depends_on(stages, index)

        def ancestors(names: list[str]) -> set[str]:
            out: set[str] = set()
            for name in names:
                position = next(i for i, s in enumerate(stages) if s["stage"] == name)
                out |= {name} | ancestors(depends_on(stages, position))
            return out

        above = ancestors(needs)
        status = {"succeeded": all(results[a] in OK for a in above), "canceled": False, "always": True,
                  "failed": any(results[a] == "Failed" for a in above),
                  "succeededOrFailed": all(results[a] != "Canceled" for a in above)}
        condition = stage.get("condition")
        runs = status["succeeded"] if condition is None else bool(
            evaluate(str(condition), variables, {name: results[name] for name in needs}, status))
        results[stage["stage"]] = ("Failed" if stage["stage"] in failing else "Succeeded") if runs else "Skipped"
    return results
