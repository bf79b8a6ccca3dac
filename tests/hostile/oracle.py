"""The inertness oracle: compare a render of a spec holding hostile values with a render of the same spec holding
harmless markers in their place.

The hostile render is accepted only if it is the marker render with each marker replaced by its value, in one of the
forms that language needs: the exact value inside parsed YAML/JSON scalars and Python string constants, one shell
word where a shell reads it, escaped text in Markdown. Anything else (an added key, an added token, a changed line
count, a new `${{`) is reported with the file and the place. The oracle knows no template: it holds for templates
that do not exist yet.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

import yaml

from mlops_gen.render import filters

EXPRESSIONS = ("${{", "$(", "$[")
SHELL_KEYS = frozenset({"run", "script", "inlineScript", "bash", "pwsh", "powershell", "command", "args"})
_SPECIAL_IN_DOUBLE_QUOTES = set('$`\\!"')

Substitutions = Mapping[str, str]  # marker -> hostile value


def derived(marker: str, value: str) -> dict[str, str]:
    """Forms templates derive from a name: raw, PascalCase, snake_case, UPPER_SNAKE."""
    forms = {marker: value, filters.pascal(marker): filters.pascal(value), filters.snake(marker): filters.snake(value)}
    forms[filters.snake(marker).upper()] = filters.snake(value).upper()
    return forms


def _substituter(subs: Substitutions) -> Callable[[str], str]:
    if not subs:
        return lambda text: text
    pattern = re.compile("|".join(re.escape(m) for m in sorted(subs, key=len, reverse=True)))
    return lambda text: pattern.sub(lambda found: subs[found.group(0)], text)


def _encoded(subs: Substitutions, encode: Callable[[str], str]) -> Callable[[str], str]:
    return _substituter({marker: encode(value) for marker, value in subs.items()})


def _shell_tokens(line: str) -> list[str] | None:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:
        return None


def _logical_lines(text: str) -> list[str]:
    return text.replace("\\\n", " ").split("\n")


def shell_equivalent(base: str, hostile: str, subs: Substitutions) -> bool:
    """Same shell words with the markers replaced by the values, and no value inside double quotes where '$',
    backticks or backslashes would be interpreted (shlex cannot see expansions)."""
    base_lines, hostile_lines = _logical_lines(base), _logical_lines(hostile)
    if len(base_lines) != len(hostile_lines):
        return False
    raw, quoted = _substituter(subs), _encoded(subs, filters.sh)
    risky = any(set(value) & _SPECIAL_IN_DOUBLE_QUOTES for value in subs.values())
    for before, after in zip(base_lines, hostile_lines, strict=True):
        if (before == after and raw(before) == before) or quoted(before) == after:
            continue
        tokens_before, tokens_after = _shell_tokens(before), _shell_tokens(after)
        if tokens_before is None or tokens_after is None or [raw(t) for t in tokens_before] != tokens_after:
            return False
        if risky:
            return False
    return True


class Mismatch(AssertionError):
    pass


def _walk_data(base: Any, hostile: Any, subs: Substitutions, where: str, shell: bool = False) -> Iterator[str]:
    raw = _substituter(subs)
    if isinstance(base, dict):
        if not isinstance(hostile, dict):
            yield f"{where}: a mapping became {type(hostile).__name__}"
            return
        expected = {raw(str(k)) if isinstance(k, str) else k: k for k in base}
        if set(expected) != set(hostile):
            added = sorted(map(str, set(hostile) - set(expected)))
            lost = sorted(map(str, set(expected) - set(hostile)))
            yield f"{where}: keys differ (added {added}, lost {lost})"
            return
        for key, original in expected.items():
            yield from _walk_data(base[original], hostile[key], subs, f"{where}.{key}", str(original) in SHELL_KEYS)
    elif isinstance(base, list):
        if not isinstance(hostile, list) or len(base) != len(hostile):
            yield f"{where}: a list of {len(base)} became {hostile!r:.80}"
            return
        for index, (b, h) in enumerate(zip(base, hostile, strict=True)):
            yield from _walk_data(b, h, subs, f"{where}[{index}]", shell)
    elif isinstance(base, str):
        if not isinstance(hostile, str):
            yield f"{where}: a string became {hostile!r:.80}"
        elif shell or "\n" in base:  # a script: each value must stay one inert shell word
            if not shell_equivalent(base, hostile, subs):
                yield f"{where}: script changed beyond one quoted word per value: {hostile!r:.300}"
        elif raw(base) == hostile:
            pass
        else:
            yield f"{where}: expected {raw(base)!r:.200} got {hostile!r:.200}"
    elif base != hostile:
        yield f"{where}: {base!r} became {hostile!r}"


class _Substitute(ast.NodeTransformer):
    def __init__(self, subs: Substitutions) -> None:
        self.raw = _substituter(subs)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        for name, value in ast.iter_fields(node):
            if isinstance(value, str) and name in ("value", "id", "name", "attr", "arg", "module", "s"):
                setattr(node, name, self.raw(value))
        return super().generic_visit(node)


def _python(base: str, hostile: str, subs: Substitutions, path: str) -> Iterator[str]:
    expected = ast.dump(_Substitute(subs).visit(ast.parse(base)))
    actual = ast.dump(ast.parse(hostile))
    if expected != actual:
        yield f"{path}: Python code differs beyond the values' string constants"


_SHELL_FENCES = frozenset({"bash", "sh", "shell", "console", "zsh"})


def _markdown_line(before: str, after: str, subs: Substitutions, fence: str | None) -> bool:
    """Prose: escaped text or a code span. In fenced blocks the fence's language decides: a mermaid label, shell
    words, a JSON string; raw text in any other block (it cannot end the block without a newline)."""
    raw = _substituter(subs)
    values = list(subs.values())
    if fence == "mermaid":
        return _encoded(subs, filters.mermaid)(before) == after
    if fence in _SHELL_FENCES:
        return shell_equivalent(before.removesuffix("\\"), after.removesuffix("\\"), subs)
    if fence == "json":
        return _encoded(subs, lambda v: json.dumps(v, ensure_ascii=False)[1:-1])(before) == after
    if fence is not None:
        return raw(before) == after
    if any(_encoded(subs, encode)(before) == after for encode in (filters.md, filters.md_code)):
        return True
    # Raw text inside a code span the template opened is inert unless it can close the span or a table cell.
    outside_spans = re.sub(r"`[^`]*`", "", before)
    # README lists are sorted, so a value may move within its list: same items, any order.
    span = re.compile(r"`[^`]*`")
    expected = raw(before)
    same_items = expected == after or (span.sub("`", expected) == span.sub("`", after)
                                       and sorted(span.findall(expected)) == sorted(span.findall(after)))
    return (same_items and not any(marker in outside_spans for marker in subs)
            and not any(set(value) & set("`|") for value in values))


def _text(base: str, hostile: str, subs: Substitutions, path: str) -> Iterator[str]:
    base_lines, hostile_lines = base.split("\n"), hostile.split("\n")
    if len(base_lines) != len(hostile_lines):
        yield f"{path}: {len(base_lines)} lines became {len(hostile_lines)}"
        return
    markdown = path.endswith(".md")
    raw = _substituter(subs)
    plain = not any(set(v) & set("$`\\\"'; |&<>(){}#*?~[]_") for v in subs.values())
    fence: str | None = None
    for number, (before, after) in enumerate(zip(base_lines, hostile_lines, strict=True), 1):
        if markdown and before.lstrip().startswith("```"):
            fence = None if fence is not None else (before.strip().removeprefix("```").strip() or "text")
            if before == after:
                continue
        if before == after and raw(before) == before:
            continue
        if raw(before) == after and plain:  # nothing in the values any language would read specially
            continue
        if markdown and _markdown_line(before, after, subs, fence):
            continue
        if not markdown and shell_equivalent(before, after, subs):
            continue
        yield f"{path}:{number}: expected {raw(before)!r:.200} got {after!r:.200}"


def _parse_yaml(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def compare(base: Mapping[str, str], hostile: Mapping[str, str], subs: Substitutions) -> list[str]:
    """Every way `hostile` (path -> text) is not `base` with the markers replaced inertly by the values."""
    problems: list[str] = []
    raw = _substituter(subs)
    paths = {raw(path): path for path in base}  # path fields (training.config...) name output files
    if set(paths) != set(hostile):
        added, lost = sorted(set(hostile) - set(paths)), sorted(set(paths) - set(hostile))
        return [f"file set differs: added {added}, lost {lost}"]
    for new_path, path in sorted(paths.items()):
        before, after = base[path], hostile[new_path]
        for expression in EXPRESSIONS:
            if after.count(expression) != before.count(expression):
                problems.append(f"{path}: {expression!r} occurs {after.count(expression)} times, "
                                f"{before.count(expression)} in the marker render")
        if not any(marker in before for marker in subs):  # the values do not reach this file: nothing may change
            if after != before:
                problems.append(f"{path}: changed although no value of the fields reaches it")
            continue
        suffix = PurePosixPath(path).suffix
        if suffix in (".yml", ".yaml"):
            problems.extend(_walk_data(_parse_yaml(before), _parse_yaml(after), subs, path))
        elif suffix == ".json":
            problems.extend(_walk_data(json.loads(before), json.loads(after), subs, path))
        elif suffix == ".py":
            problems.extend(_python(before, after, subs, path))
        else:
            problems.extend(_text(before, after, subs, path))
        if suffix not in (".yml", ".yaml", ".json", ".py") and before.count("\n") != after.count("\n"):
            problems.append(f"{path}: line count changed")
    return problems


def parse_field(path: str) -> list[str | int]:
    """'environments[1].approval_waiver' -> ['environments', 1, 'approval_waiver']."""
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        parts.append(int(index) if index else name)
    return parts


def get_field(data: Any, path: str) -> Any:
    for part in parse_field(path):
        data = data[part]
    return data


def set_field(data: Any, path: str, value: Any) -> None:
    parts = parse_field(path)
    for part in parts[:-1]:
        data = data.setdefault(part, {}) if isinstance(data, dict) else data[part]
    data[parts[-1]] = value
