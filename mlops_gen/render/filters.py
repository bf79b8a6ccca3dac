"""The only ways a spec value reaches generated text: each filter makes a value an inert literal of one language.

Spec validation already restricts names to safe alphabets and keeps pipeline-expression syntax out of free text;
these filters are the second wall, so that no value becomes a YAML key, a shell word or Python code.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Sequence
from typing import Any

import yaml
from markupsafe import Markup

from mlops_gen.stages import flags_of


class ShellRaw(str):
    """A shell fragment written by a template (e.g. "${BUILD_BUILDID}"), passed through `script_call` unquoted."""


def env_value(name: str) -> ShellRaw:
    """An environment variable's value as one shell word: how a step reads a pipeline variable on both platforms."""
    return ShellRaw(f'"${{{name}}}"')


def yaml_str(value: Any) -> str:
    """A YAML double-quoted scalar; JSON string syntax is valid YAML and escapes every control character."""
    return json.dumps(str(value), ensure_ascii=False)


def sh(value: Any) -> str:
    """A single shell word."""
    if isinstance(value, ShellRaw):
        return str(value)
    return shlex.quote(str(value))


def py(value: Any) -> str:
    """A Python literal (str, number, bool, None, list or dict of those)."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=True)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(py(v) for v in value) + "]"
    raise TypeError(f"no Python literal for {type(value).__name__}")


_C_DUMPER = getattr(yaml, "CSafeDumper", None)  # libyaml: ten times faster, where PyYAML was built with it
# Characters on which libyaml's emitter and PyYAML's Python one disagree (outside the BMP, NEL, tab, CR, BOM, the
# Unicode line separators): text with any of them is written by the Python emitter, so the bytes never depend on
# whether libyaml is installed.
_EMITTERS_DIFFER = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]")


def yaml_block(value: Any) -> str:
    """A YAML document of plain data (block style, keys in insertion order): every string is a YAML scalar.

    Written as PyYAML's safe_dump writes it; by libyaml when that gives the same bytes."""
    dumper = _C_DUMPER if _C_DUMPER is not None and not _has_text_emitters_differ_on(value) else yaml.SafeDumper
    return str(yaml.dump(value, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100))


def _has_text_emitters_differ_on(value: Any) -> bool:
    if isinstance(value, str):
        return _EMITTERS_DIFFER.search(value) is not None
    if isinstance(value, dict):
        return any(_has_text_emitters_differ_on(k) or _has_text_emitters_differ_on(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_text_emitters_differ_on(item) for item in value)
    return False


def json_block(value: Any, width: int = 100) -> str:
    """A JSON document of plain data, keys in insertion order: a mapping or list that fits in `width` columns on
    one line is written on one line, any other one item per line, indented by two (what json.dumps(indent=2)
    writes, with short items kept together). One pass over the data: each node's one-line text is built from its
    children's, so a large plan costs about what its compact dump costs."""
    return _json_node(value, 0, 0, width)[1] + "\n"


_JSON_STRING = json.encoder.encode_basestring  # the encoder json.dumps(ensure_ascii=False) uses (C where built)


_JSON_LITERALS = {True: "true", False: "false", None: "null"}


def _json_scalar(value: Any) -> str:
    if isinstance(value, str):
        return _JSON_STRING(value)
    if value is None or isinstance(value, bool):
        return _JSON_LITERALS[value]
    if isinstance(value, (int, float)):
        return json.dumps(value, allow_nan=False)  # int and float text as json writes them; NaN refused
    raise TypeError(f"no JSON value for {type(value).__name__}")


def _json_node(value: Any, indent: int, column: int, width: int) -> tuple[str, str]:
    """(`value` on one line, `value` laid out from `column` on a line indented by `indent`)."""
    if isinstance(value, dict):
        opening, closing = "{", "}"
        names = [_JSON_STRING(_json_key(key)) + ": " for key in value]
        items: Any = value.values()
    elif isinstance(value, (list, tuple)):
        opening, closing = "[", "]"
        names = [""] * len(value)
        items = value
    else:
        text = _json_scalar(value)
        return text, text
    inner = indent + 2
    last = len(names) - 1  # every item but the last is followed by a comma, which must fit too
    flats: list[str] = []
    laids: list[str] = []
    for index, (name, item) in enumerate(zip(names, items, strict=True)):
        if type(item) is str:  # most items of a plan: encoded here rather than in a call per string
            text = _JSON_STRING(item)
            flats.append(text)
            laids.append(text)
        else:
            flat, laid = _json_node(item, inner, inner + len(name), width - (index < last))
            flats.append(flat)
            laids.append(laid)
    flat = opening + ", ".join([name + text for name, text in zip(names, flats, strict=True)]) + closing
    if column + len(flat) <= width or not names:
        return flat, flat
    pad = " " * inner
    body = f",\n{pad}".join([name + text for name, text in zip(names, laids, strict=True)])
    return flat, f"{opening}\n{pad}{body}\n{' ' * indent}{closing}"


def _json_key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"a JSON key must be a string, not {type(key).__name__}")
    return key


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def pascal(value: str) -> str:
    """'prod-eu' -> 'ProdEu': an identifier for Azure DevOps stage and job names."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", value) if part)


def snake(value: str) -> str:
    """'prod-eu' -> 'prod_eu': an identifier for GitHub job ids and Python names."""
    return re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_").lower()


def number(value: float) -> str:
    """Shortest exact text of a threshold: 0.85 stays '0.85', 25000.0 becomes '25000'."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


_MD_ESCAPES = {"\\": "\\\\", "|": "\\|", "`": "\\`", "<": "&lt;", ">": "&gt;", "&": "&amp;", "*": "\\*",
               "_": "\\_", "[": "\\[", "]": "\\]"}


def md(value: Any) -> str:
    """Markdown text that stays one inert table cell: no pipes, code spans, HTML, emphasis or links."""
    return "".join(_MD_ESCAPES.get(char, char) for char in str(value))


def md_code(value: Any) -> str:
    """A Markdown code span, safe in a table cell: a fence longer than any backtick run, pipes escaped."""
    text = str(value).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# Mermaid entity codes (#<decimal>;): a quoted label cannot close its quote, open HTML, or start an entity.
_MERMAID_ESCAPES = {'"': "#34;", "#": "#35;", "&": "#38;", "<": "#60;", ">": "#62;", "`": "#96;"}


def mermaid(value: Any) -> str:
    """Text for inside a double-quoted Mermaid label."""
    return "".join(_MERMAID_ESCAPES.get(char, char) for char in str(value))


def script_call(script: str, args: Sequence[tuple[str, Any]] | Iterable[tuple[str, Any]], indent: int = 0,
                python: str = "python") -> Markup:
    """A multi-line `python <script> --flag value ...` command, refusing flags the script does not declare."""
    declared = flags_of(script)
    lines = [f"{python} {script}"]
    for flag, value in args:
        if flag not in declared:
            raise ValueError(f"{script} declares no flag {flag}")
        lines.append(flag if declared[flag].switch else f"{flag} {sh(value)}")
    pad = " " * indent
    # Markup only tells jinja the text is final; autoescape is off and every value above went through `sh`.
    return Markup((" \\\n" + pad + "  ").join(lines))  # noqa: S704
