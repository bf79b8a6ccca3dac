"""A small, faithful expander of Azure Pipelines templates, for the subset the monorepo layout's templates use, and
tests of the expander itself.

What it does, as Microsoft documents it:
- typed template parameters: `string`, `number`, `boolean`, `object` (the others are refused here), `default`,
  `values:`; a missing parameter without default, an unknown one, a value of the wrong type or outside `values:`
  fails, as Azure fails the run at compile time
  (learn.microsoft.com/azure/devops/pipelines/process/template-parameters, .../yaml-schema/parameters-parameter);
- `extends: {template, parameters}` and job-list `- template:` includes; a path starting with `/` is absolute
  within the repository, any other relative to the including file (.../process/templates, "Reference template
  paths"); at most 100 files and 20 levels of nesting (.../process/templates, "Imposed limits");
- template expressions `${{ }}`: `parameters.x`, `parameters['x']`, property access, the filtered array `.*`,
  literals, and the functions eq, ne, and, or, not, in, containsValue, join, replace; a whole-value expression
  keeps its object, one inside a string is converted to text (booleans as True/False)
  (.../process/expressions, .../process/template-expressions);
- `${{ each x in ... }}` and `${{ if }}` / `${{ elseif }}` / `${{ else }}` in sequences and mappings
  (.../process/template-expressions, "Iterative insertion", "Conditional insertion").
Anything outside the subset raises, so a template cannot pass by using what the expander does not know.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

MAX_FILES = 100
MAX_DEPTH = 20
TYPES = ("string", "number", "boolean", "object")


class _Loader(yaml.SafeLoader):
    """YAML as Azure reads it: `on`, `yes`, `no` are strings (only true/false are booleans)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader subclass


class TemplateError(Exception):
    pass


# ----- expressions -----

TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op>[(),\[\]])"
                   r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.(?:[A-Za-z_][A-Za-z0-9_]*|\*))*))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise TemplateError(f"cannot read expression at {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def text_of(value: Any) -> str:
    """A value as Azure writes it into a string."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        raise TemplateError(f"an object cannot be part of a string: {value!r}")
    return "" if value is None else str(value)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return _truthy(left) == _truthy(right)
    if isinstance(left, (int, float)) and not isinstance(right, (dict, list)):
        try:
            return float(left) == float(right)
        except (TypeError, ValueError):
            return False
    return text_of(left).lower() == text_of(right).lower()


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value != "" and value.lower() != "false"
    return bool(value)


class _Expression:
    def __init__(self, text: str, context: dict[str, Any]) -> None:
        self.items, self.pos, self.context = _tokens(text), 0, context

    def take(self, value: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.items):
            raise TemplateError("unexpected end of expression")
        item = self.items[self.pos]
        if value is not None and item[1] != value:
            raise TemplateError(f"expected {value!r}, found {item[1]!r}")
        self.pos += 1
        return item

    def parse(self) -> Any:
        value = self.value()
        if self.pos != len(self.items):
            raise TemplateError(f"unexpected {self.items[self.pos][1]!r}")
        return value

    def value(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text) if "." in text else int(text)
        if kind != "name":
            raise TemplateError(f"unexpected {text!r}")
        if text in ("true", "false"):
            return text == "true"
        if self.pos < len(self.items) and self.items[self.pos] == ("op", "("):
            return self.call(text)
        return self.reference(text)

    def reference(self, text: str) -> Any:
        head, *rest = text.split(".")
        if head not in self.context:
            raise TemplateError(f"unknown name {head!r} (only parameters and loop variables)")
        values = [self.context[head]]
        filtered = False
        for part in rest:
            values, filtered = self._step(values, part, filtered)
        while self.pos < len(self.items) and self.items[self.pos] == ("op", "["):
            self.take("[")
            key = self.value()
            self.take("]")
            values, filtered = self._step(values, text_of(key), filtered)
        return values if filtered else values[0]

    @staticmethod
    def _step(values: list[Any], part: str, filtered: bool) -> tuple[list[Any], bool]:
        if part == "*":
            out = []
            for value in values:
                out.extend(value.values() if isinstance(value, dict) else value if isinstance(value, list) else [])
            return out, True
        out = []
        for value in values:
            if not isinstance(value, dict) or part not in value:
                if filtered:
                    continue
                raise TemplateError(f"no property {part!r} in {value!r}")
            out.append(value[part])
        return out, filtered

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.items[self.pos] != ("op", ")"):
            args.append(self.value())
            if self.items[self.pos] == ("op", ","):
                self.take(",")
        self.take(")")
        if name == "eq" and len(args) == 2:
            return _same(*args)
        if name == "ne" and len(args) == 2:
            return not _same(*args)
        if name == "and" and len(args) >= 2:
            return all(_truthy(arg) for arg in args)
        if name == "or" and len(args) >= 2:
            return any(_truthy(arg) for arg in args)
        if name == "not" and len(args) == 1:
            return not _truthy(args[0])
        if name == "in" and len(args) >= 2:
            return any(_same(args[0], arg) for arg in args[1:])
        if name == "containsValue" and len(args) == 2:
            return isinstance(args[0], list) and any(_same(item, args[1]) for item in args[0])
        if name == "join" and len(args) == 2:
            if not isinstance(args[1], list):
                return text_of(args[1])
            return text_of(args[0]).join(text_of(item) for item in args[1])
        if name == "replace" and len(args) == 3:
            return text_of(args[0]).replace(text_of(args[1]), text_of(args[2]))
        raise TemplateError(f"function {name} with {len(args)} arguments is not in the subset")


def evaluate(text: str, context: dict[str, Any]) -> Any:
    return _Expression(text, context).parse()


WHOLE = re.compile(r"^\$\{\{(.*)\}\}$", re.S)
INLINE = re.compile(r"\$\{\{(.*?)\}\}", re.S)
DIRECTIVE = re.compile(r"^\$\{\{\s*(each\s+(\w+)\s+in\s+(.+?)|if\s+(.+?)|elseif\s+(.+?)|else)\s*\}\}$", re.S)


# ----- parameters -----

def bind(declared: list[dict[str, Any]] | None, given: dict[str, Any] | None, where: str) -> dict[str, Any]:
    declared, given = declared or [], dict(given or {})
    if not isinstance(declared, list):
        raise TemplateError(f"{where}: parameters must be a typed list")
    names = [item["name"] for item in declared]
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise TemplateError(f"{where}: unexpected parameter(s) {unknown}")
    out = {}
    for item in declared:
        name, kind = item["name"], item.get("type")
        if kind not in TYPES:
            raise TemplateError(f"{where}: parameter {name} has type {kind!r}, not one of {TYPES}")
        if name in given:
            value = given[name]
        elif "default" in item:
            value = item["default"]
        else:
            raise TemplateError(f"{where}: parameter {name} is required")
        value = _typed(value, kind, f"{where}: parameter {name}")
        allowed = item.get("values")
        if allowed is not None and not any(_same(value, choice) for choice in allowed):
            raise TemplateError(f"{where}: parameter {name}: {value!r} is not one of {allowed}")
        out[name] = value
    return out


def _typed(value: Any, kind: str, where: str) -> Any:
    if kind == "object":
        return value
    if isinstance(value, (dict, list)):
        raise TemplateError(f"{where}: an object where a {kind} is expected")
    if kind == "string":
        return text_of(value)
    if kind == "number":
        if isinstance(value, bool):
            raise TemplateError(f"{where}: {value!r} is not a number")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TemplateError(f"{where}: {value!r} is not a number") from None
        return int(number) if number.is_integer() else number
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise TemplateError(f"{where}: {value!r} is not a boolean")


# ----- expansion -----

@dataclass
class Expansion:
    root: Path  # the repository root: where a template path starting with / begins
    files: list[Path] = field(default_factory=list)
    depth: int = 0

    def open(self, path: str, including: Path) -> tuple[Path, dict[str, Any]]:
        target = self.root / path[1:] if path.startswith("/") else including.parent / path
        target = target.resolve()
        if not target.is_relative_to(self.root.resolve()):
            raise TemplateError(f"{path}: outside the repository")
        if not target.is_file():
            raise TemplateError(f"{path} (from {including}): no such template")
        self.files.append(target)
        if len(self.files) > MAX_FILES:
            raise TemplateError(f"more than {MAX_FILES} template files")
        document = load(target)
        if not isinstance(document, dict):
            raise TemplateError(f"{target}: not a mapping")
        return target, document

    def value(self, node: Any, context: dict[str, Any], here: Path) -> Any:
        if isinstance(node, str):
            return self.string(node, context)
        if isinstance(node, list):
            return self.sequence(node, context, here)
        if isinstance(node, dict):
            return self.mapping(node, context, here)
        return node

    @staticmethod
    def string(text: str, context: dict[str, Any]) -> Any:
        whole = WHOLE.match(text)
        if whole and "${{" not in whole.group(1):
            found = evaluate(whole.group(1), context)
            return found if isinstance(found, (dict, list)) else text_of(found)
        return INLINE.sub(lambda match: text_of(evaluate(match.group(1), context)), text)

    def _branches(self, items: list[tuple[str, Any]], context: dict[str, Any]) -> list[tuple[str | None, Any]]:
        """Directive keys resolved: [(None, value to splice) | (key, value)] in order."""
        out: list[tuple[str | None, Any]] = []
        chain_open, chain_done = False, False
        for key, value in items:
            directive = DIRECTIVE.match(key) if isinstance(key, str) else None
            if directive is None:
                if isinstance(key, str) and key.lstrip().startswith("${{") and not WHOLE.match(key.strip()):
                    raise TemplateError(f"unknown directive {key!r}")
                out.append((key, value))
                chain_open = False
                continue
            text = directive.group(1)
            if text.startswith("each"):
                name, source = directive.group(2), evaluate(directive.group(3), context)
                if not isinstance(source, (list, dict)):
                    raise TemplateError(f"each over {source!r}")
                elements = list(source.items()) if isinstance(source, dict) else source
                for element in elements:
                    inner = {**context, name: {"key": element[0], "value": element[1]}
                             if isinstance(source, dict) else element}
                    out.append((None, (value, inner)))
                chain_open = False
            elif text.startswith("if"):
                chain_open, chain_done = True, _truthy(evaluate(directive.group(4), context))
                if chain_done:
                    out.append((None, (value, context)))
            elif text.startswith("elseif") or text == "else":
                if not chain_open:
                    raise TemplateError(f"{key!r} without ${{{{ if }}}}")
                holds = text == "else" or _truthy(evaluate(directive.group(5), context))
                if holds and not chain_done:
                    out.append((None, (value, context)))
                    chain_done = True
                if text == "else":
                    chain_open = False
        return out

    def sequence(self, node: list[Any], context: dict[str, Any], here: Path) -> list[Any]:
        out: list[Any] = []
        pending: list[tuple[str, Any]] = []  # consecutive directive items: an if/elseif/else chain spans them

        def flush() -> None:
            for _, spliced in self._branches(pending, context):
                value, inner = spliced
                if not isinstance(value, list):
                    raise TemplateError("a directive in a sequence must hold a sequence")
                out.extend(self.sequence(value, inner, here))
            pending.clear()

        for item in node:
            if isinstance(item, dict) and len(item) == 1 and DIRECTIVE.match(str(next(iter(item)))):
                pending.extend(item.items())
                continue
            flush()
            if isinstance(item, dict) and "template" in item and set(item) <= {"template", "parameters"}:
                out.extend(self.include(item, context, here))
            else:
                out.append(self.value(item, context, here))
        flush()
        return out

    def mapping(self, node: dict[Any, Any], context: dict[str, Any], here: Path) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in self._branches(list(node.items()), context):
            if key is None:
                inner_value, inner = value
                if not isinstance(inner_value, dict):
                    raise TemplateError("a directive in a mapping must hold a mapping")
                for inner_key, inner_item in self.mapping(inner_value, inner, here).items():
                    _put(out, inner_key, inner_item)
            else:
                _put(out, text_of(self.string(str(key), context)), self.value(value, context, here))
        return out

    def include(self, item: dict[str, Any], context: dict[str, Any], here: Path) -> list[Any]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise TemplateError(f"more than {MAX_DEPTH} levels of templates")
        given = self.value(item.get("parameters") or {}, context, here)
        target, document = self.open(str(self.string(item["template"], context)), here)
        params = bind(document.get("parameters"), given, str(target))
        keys = set(document) - {"parameters"}
        if keys != {"jobs"}:
            raise TemplateError(f"{target}: a job template holds jobs only, not {sorted(keys)}")
        jobs = self.value(document["jobs"], {"parameters": params}, target)
        self.depth -= 1
        return list(jobs)


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if key in out:
        raise TemplateError(f"duplicate key {key!r}")
    out[key] = value


def expand_pipeline(path: Path, root: Path, runtime: dict[str, Any] | None = None) -> tuple[dict[str, Any],
                                                                                          Expansion]:
    """The pipeline `path` (under repository `root`) as Azure runs it, for a run with `runtime` parameters."""
    expansion = Expansion(root)
    document = load(path)
    if not isinstance(document, dict):
        raise TemplateError(f"{path}: not a mapping")
    expansion.files.append(path.resolve())
    params = bind(document.get("parameters"), runtime, str(path))
    context = {"parameters": params}
    if "extends" not in document:
        return expansion.value(document, context, path), expansion
    extends = document["extends"]
    given = expansion.value(extends.get("parameters") or {}, context, path)
    expansion.depth += 1
    target, template = expansion.open(str(extends["template"]), path)
    bound = bind(template.get("parameters"), given, str(target))
    body = expansion.value({key: value for key, value in template.items() if key != "parameters"},
                           {"parameters": bound}, target)
    out = {key: value for key, value in document.items() if key != "extends"}
    for key, value in body.items():
        _put(out, key, value)
    return out, expansion


# ----- tests of the expander -----

def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


TEMPLATE = """\
parameters:
  - name: yesNo
    type: boolean
    default: false
  - name: count
    type: number
  - name: kind
    type: string
    default: a
    values: [a, b]
  - name: items
    type: object
    default: []
stages:
  - stage: S
    jobs:
      - ${{ each item in parameters.items }}:
          - job: J${{ item.id }}
            displayName: "n=${{ parameters.count }} ${{ parameters.yesNo }}"
            steps:
              - ${{ if parameters.yesNo }}:
                  - bash: echo yes
              - ${{ else }}:
                  - bash: echo no
      - template: jobs/one.yml
        parameters:
          name: ${{ join('-', parameters.items.*.id) }}
"""
JOB = """\
parameters:
  - name: name
    type: string
jobs:
  - job: Last${{ replace(parameters.name, '-', '_') }}
    steps:
      - bash: echo ${{ parameters.name }}
"""


def test_expander_follows_the_documented_rules(tmp_path: Path) -> None:
    _write(tmp_path, "shared/t.yml", TEMPLATE)
    _write(tmp_path, "shared/jobs/one.yml", JOB)
    pipe = _write(tmp_path, "m/p.yml", "extends:\n  template: /shared/t.yml\n  parameters:\n    yesNo: true\n"
                  "    count: 3\n    items: [{id: A}, {id: B}]\n")
    doc, expansion = expand_pipeline(pipe, tmp_path)
    jobs = doc["stages"][0]["jobs"]
    assert [job["job"] for job in jobs] == ["JA", "JB", "LastA_B"]
    assert jobs[0]["displayName"] == "n=3 True"
    assert jobs[0]["steps"] == [{"bash": "echo yes"}]
    assert jobs[2]["steps"] == [{"bash": "echo A-B"}]
    assert len(expansion.files) == 3


@pytest.mark.parametrize(("parameters", "message"), [
    ("    yesNo: apples\n    count: 1\n", "not a boolean"),
    ("    count: many\n", "not a number"),
    ("    count: 1\n    kind: c\n", "not one of"),
    ("    yesNo: true\n", "count is required"),
    ("    count: 1\n    colour: red\n", "unexpected parameter"),
])
def test_expander_refuses_what_azure_refuses(tmp_path: Path, parameters: str, message: str) -> None:
    _write(tmp_path, "shared/t.yml", TEMPLATE)
    _write(tmp_path, "shared/jobs/one.yml", JOB)
    pipe = _write(tmp_path, "m/p.yml", f"extends:\n  template: /shared/t.yml\n  parameters:\n{parameters}")
    with pytest.raises(TemplateError, match=message):
        expand_pipeline(pipe, tmp_path)


def test_relative_template_paths_start_at_the_including_file(tmp_path: Path) -> None:
    _write(tmp_path, "shared/t.yml", TEMPLATE)
    _write(tmp_path, "shared/jobs/one.yml", JOB)
    relative = _write(tmp_path, "m/p.yml", "extends:\n  template: shared/t.yml\n  parameters:\n    count: 1\n")
    with pytest.raises(TemplateError, match="no such template"):
        expand_pipeline(relative, tmp_path)
    _write(tmp_path, "m/shared/t.yml", TEMPLATE)
    _write(tmp_path, "m/shared/jobs/one.yml", JOB)
    doc, _ = expand_pipeline(relative, tmp_path)
    assert doc["stages"][0]["jobs"][-1]["job"] == "Last"
