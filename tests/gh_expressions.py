"""A small evaluator of the GitHub Actions expressions the generated workflows use, and a simulation of which jobs
of a run start.

It covers the subset we generate (literals, context paths, `!`, `==`, `!=`, `&&`, `||`, parentheses and the functions
below) and refuses anything else, so a new construct in a template fails loudly here instead of being guessed at.
Semantics, as documented:
- https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#operators : `&&` and `||` return
  one of their operands (`a || 'b'` is a default), `''`, `0`, `null` and `false` are falsy, and string comparison
  ignores case;
- #status-check-functions: a job `if:` without a status function is `success() && (...)`; `failure()` is true when
  any ancestor job failed; `always()` is always true; `cancelled()` when the run was cancelled;
- https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds : a job whose
  needs failed or were skipped is skipped, unless its condition calls a status function.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.expression_tokens import tokens

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||[!(),])"
                   r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*)*))")
STATUS = ("success", "failure", "always", "cancelled")


class _Parser:
    def __init__(self, text: str, context: Mapping[str, Any], status: Mapping[str, bool]) -> None:
        self.items = tokens(text, TOKEN)
        self.pos = 0
        self.context = context
        self.status = status

    def peek(self) -> tuple[str, str] | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        item = self.peek()
        if item is None or (value is not None and item[1] != value):
            raise ValueError(f"expected {value!r} at {item!r}")
        self.pos += 1
        return item

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            right = self.unary()
            same = equal(value, right)
            value = same if op == "==" else not same
        return value

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        if self.peek() == ("op", "("):
            self.take()
            args = []
            while self.peek() != ("op", ")"):
                args.append(self.or_())
                if self.peek() == ("op", ","):
                    self.take()
            self.take(")")
            return self.call(text, args)
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        value: Any = self.context
        for part in text.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        return value

    def call(self, name: str, args: list[Any]) -> Any:
        if name in STATUS and not args:
            return self.status[name]
        if name == "startsWith" and len(args) == 2:
            return str(args[0] or "").lower().startswith(str(args[1] or "").lower())
        raise ValueError(f"function {name} is not in the evaluated subset")


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, 0.0, "")


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    return bool(left == right)


def evaluate(text: str, context: Mapping[str, Any], status: Mapping[str, bool] | None = None) -> Any:
    """The value of one expression (the text inside `${{ }}`, or a bare `if:`)."""
    text = text.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    return _Parser(text, context, status or {name: name in ("success", "always") for name in STATUS}).parse()


def needs_of(job: Mapping[str, Any]) -> list[str]:
    needs = job.get("needs") or []
    return [needs] if isinstance(needs, str) else list(needs)


def simulate(jobs: Mapping[str, Any], github: Mapping[str, Any], inputs: Mapping[str, Any],
             failing: frozenset[str] = frozenset()) -> dict[str, str]:
    """Each job's result in a run that is not cancelled: 'success' or 'failure' (the jobs in `failing`) for the jobs
    whose condition holds, 'skipped' for the others."""
    results: dict[str, str] = {}

    def ancestors(job_id: str) -> set[str]:
        out: set[str] = set()
        for need in needs_of(jobs[job_id]):
            out |= {need} | ancestors(need)
        return out

    def result(job_id: str) -> str:
        if job_id in results:
            return results[job_id]
        job = jobs[job_id]
        needs = needs_of(job)
        for need in needs:
            result(need)
        above = ancestors(job_id)
        status = {"success": all(results[need] == "success" for need in needs)
                  and not any(results[a] in ("failure", "cancelled") for a in above),
                  "failure": any(results[a] == "failure" for a in above),
                  "always": True, "cancelled": False}
        condition = str(job.get("if", "")).strip()
        if not condition:
            runs = status["success"]
        else:
            context = {"github": github, "inputs": inputs,
                       "needs": {need: {"result": results[need]} for need in needs}}
            text = condition[3:-2] if condition.startswith("${{") else condition
            uses_status = any(re.search(rf"\b{name}\(\)", text) for name in STATUS)
            value = truthy(evaluate(text, context, status))
            runs = value if uses_status else status["success"] and value
        results[job_id] = ("failure" if job_id in failing else "success") if runs else "skipped"
        return results[job_id]

    for job_id in jobs:
        result(job_id)
    return results
