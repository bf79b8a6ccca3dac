"""Read one spec file into plain Python data plus the line and column of every key and value.

PyYAML's composer (libyaml when available) gives nodes with marks; we convert them ourselves so that we can reject
what a spec must never contain: duplicate keys, several documents, merge keys, non-string keys, and alias graphs
that expand past a small bound (the "billion laughs" attack), all with positions instead of tracebacks.
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops_gen.errors import Problem
from mlops_gen.spec.canonical import canonical_spec_bytes

MAX_SPEC_BYTES = 1024 * 1024  # real specs are a few KiB; this bounds time and memory on hostile input
MAX_NODES = 20_000  # nodes after alias expansion
MAX_DEPTH = 32

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_scalar_constructor = yaml.constructor.SafeConstructor()

Path_ = tuple[str | int, ...]


@dataclass
class LoadedSpec:
    """Plain data of one spec file, and where each part of it came from."""

    file: str
    data: dict[str, Any]
    raw: bytes = b""
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    value_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # Plain scalars that YAML read as a boolean, or as a number in a YAML 1.1-only spelling: path -> the text.
    # Validation accepts them only where the field means exactly that (see mlops_gen.spec.spellings).
    spellings: dict[Path_, str] = field(default_factory=dict)
    # Parts of the document inherited from the repository configuration's defaults: path -> the file they are in
    # (their positions above are in that file). See mlops_gen.repo_config.merge.
    inherited: dict[Path_, str] = field(default_factory=dict)

    def file_at(self, path: Path_) -> str:
        """The file a finding about `path` is shown in: the configuration's when the field or one of its ancestors
        was inherited from its defaults, else the spec's."""
        for cut in range(1, len(path) + 1):
            if path[:cut] in self.inherited:
                return self.inherited[path[:cut]]
        return self.file

    def field_position(self, path: Path_) -> tuple[int, int]:
        """Where a finding about a field is shown: its key when it has one (a mapping entry), else its value (a
        list item), else its nearest ancestor."""
        return self.key_positions.get(path) or self.position(path)

    def position(self, path: Path_, *, of_key: bool = False) -> tuple[int, int]:
        """Best position for a field path: the exact node, else its nearest ancestor, else the file start."""
        table = self.key_positions if of_key else self.value_positions
        for cut in range(len(path), 0, -1):
            prefix = path[:cut]
            if prefix in table:
                return table[prefix]
            if prefix in self.key_positions:
                return self.key_positions[prefix]
        return (1, 1)


class _LoadFailed(Exception):
    def __init__(self, line: int, column: int, message: str, path: Path_ = ()) -> None:
        super().__init__(message)
        self.line, self.column, self.message, self.path = line, column, message, path


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _dotted(path: Path_) -> str:
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path).replace(".[", "[")


class _Converter:
    """Turns a composed node graph into Python objects, recording positions and enforcing bounds."""

    def __init__(self, spec: LoadedSpec) -> None:
        self.spec = spec
        self.nodes = 0

    def convert(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _LoadFailed(*_mark(node), f"document expands to more than {MAX_NODES} nodes "
                              "(anchors and aliases are limited in specs)", path[:1])
        if depth > MAX_DEPTH:
            raise _LoadFailed(*_mark(node), f"nesting deeper than {MAX_DEPTH} levels", path)
        self.spec.value_positions.setdefault(path, _mark(node))
        _tag_checked(node, path)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        value = _scalar(node, path)
        if not node.style and (isinstance(value, bool) or (
                isinstance(value, (int, float)) and _YAML11_NUMBER.fullmatch(node.value))):
            self.spec.spellings[path] = str(node.value)
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path_, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line, column = _mark(key_node)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _LoadFailed(line, column, "merge keys (<<) are not supported in specs; write the keys out", path)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                raise _LoadFailed(line, column, f"keys must be strings (got {shown!r}); quote the key", path)
            key = str(key_node.value)
            key_path = (*path, key)
            if key in result:
                first_line = self.spec.key_positions[key_path][0]
                raise _LoadFailed(line, column, f"duplicate key {key!r} (first defined on line {first_line})",
                                  (*path, key))
            self.spec.key_positions[key_path] = (line, column)
            result[key] = self.convert(value_node, (*path, key), depth + 1)
        return result


_TAG = "tag:yaml.org,2002:"
# Numbers only YAML 1.1 reads as numbers (octal 0777, sexagesimal 1:30, 1_000, binary 0b101): ambiguous to readers
# and to YAML 1.2 tools, so a spec must spell the number out.
_YAML11_NUMBER = re.compile(r"[-+]?(0[0-9_]+|0b[01_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|[0-9.]*_[0-9_.]*)")
_SCALAR_TAGS = {f"{_TAG}{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")}
_COLLECTION_TAGS: dict[type[yaml.Node], str] = {yaml.SequenceNode: f"{_TAG}seq", yaml.MappingNode: f"{_TAG}map"}


def _tag_checked(node: yaml.Node, path: Path_) -> None:
    """Specs use plain YAML data only: explicit tags like !!python/object, !!binary, !!set or !custom are refused."""
    allowed = _SCALAR_TAGS if isinstance(node, yaml.ScalarNode) else {_COLLECTION_TAGS.get(type(node), '')}
    if node.tag not in allowed and node.tag not in (f"{_TAG}merge", f"{_TAG}value"):
        shown = node.tag.replace(_TAG, "!!")
        raise _LoadFailed(*_mark(node), f"YAML tag {shown!r} is not supported in specs; remove it", path)


def _scalar(node: yaml.ScalarNode, path: Path_) -> Any:
    """Construct one scalar, turning every construction failure into a positioned problem."""
    if node.tag in (f"{_TAG}merge", f"{_TAG}value"):  # a plain '<<' or '=' as a value is just text
        return str(node.value)
    try:
        value = _scalar_constructor.construct_object(node, deep=True)
    except Exception as exc:  # PyYAML raises ValueError, KeyError, AttributeError... on bad scalars
        kind = node.tag.replace(_TAG, "")
        reason = f": {exc}" if isinstance(exc, ValueError) and str(exc) else ""
        shown = repr(node.value) if len(node.value) <= 40 else repr(node.value[:37]) + "..."
        raise _LoadFailed(*_mark(node), f"{shown} is not a valid YAML {kind}{reason}", path) from None
    if isinstance(value, float) and not math.isfinite(value):
        raise _LoadFailed(*_mark(node), f"{node.value!r} is not a finite number", path)
    return value


def _decode(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _LoadFailed(line, column, f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})") from None
    # A UTF-8 byte order mark is legal YAML and common from Windows editors: accept it, do not keep it.
    return text.removeprefix("\ufeff")


def _event_mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


def _marks(event: Any) -> tuple[Any, Any]:
    return event.start_mark, event.end_mark


def _resolved_tag(loader: Any, kind: type[yaml.Node], event: Any, value: str | None) -> str:
    tag = event.tag
    if tag is None or tag == "!":
        return str(loader.resolve(kind, value, event.implicit))
    return str(tag)


def _compose_document(loader: Any) -> yaml.Node:
    """Build one document's node graph from parser events, refusing it as soon as it has too many nodes.

    PyYAML's own composer builds the whole graph first (a 1 MiB flow list is 500 000 nodes, seconds and hundreds
    of MiB); counting events while composing stops hostile input after MAX_NODES. The loop is iterative, so deep
    nesting cannot exhaust the Python stack; anchors are registered when their node starts, as PyYAML does, so a
    recursive alias still reaches the converter, which rejects it by depth.
    """
    anchors: dict[str, yaml.Node] = {}
    stack: list[tuple[yaml.CollectionNode, list[yaml.Node]]] = []
    count = 0
    while True:
        event: Any = loader.get_event()
        if isinstance(event, yaml.NodeEvent):
            count += 1
            if count > MAX_NODES:
                raise _LoadFailed(*_event_mark(event), f"document has more than {MAX_NODES} nodes; "
                                  "a spec needs far fewer")
        node: yaml.Node
        if isinstance(event, yaml.AliasEvent):
            if event.anchor not in anchors:
                raise _LoadFailed(*_event_mark(event), f"invalid YAML: alias *{event.anchor} refers to no anchor "
                                  "defined before it")
            node = anchors[event.anchor]
        elif isinstance(event, yaml.ScalarEvent):
            tag = _resolved_tag(loader, yaml.ScalarNode, event, event.value)
            node = yaml.ScalarNode(tag, event.value, *_marks(event), style=event.style)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            kind = yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode
            collection = kind(_resolved_tag(loader, kind, event, None), [], _marks(event)[0], None,
                              flow_style=event.flow_style)
            if event.anchor is not None:
                anchors[event.anchor] = collection
            stack.append((collection, []))
            continue
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            node, children = stack.pop()
            node.end_mark = event.end_mark
            pairs = list(zip(children[::2], children[1::2], strict=True)) if isinstance(node, yaml.MappingNode) else []
            node.value = pairs or children if isinstance(node, yaml.MappingNode) else children
        else:  # the parser only yields node events inside a document
            raise _LoadFailed(*_event_mark(event), f"invalid YAML: unexpected {type(event).__name__}")
        if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            anchors[event.anchor] = node
        if not stack:
            return node
        stack[-1][1].append(node)


def _compose(text: str) -> yaml.Node:
    loader = _Loader(text)
    try:
        loader.get_event()  # StreamStartEvent
        if loader.check_event(yaml.StreamEndEvent):
            raise _LoadFailed(1, 1, "file is empty; a spec is a mapping with apiVersion, kind, model, environments")
        loader.get_event()  # DocumentStartEvent
        document = _compose_document(loader)
        loader.get_event()  # DocumentEndEvent
        if not loader.check_event(yaml.StreamEndEvent):
            start = loader.get_event()  # the next DocumentStartEvent: point at its content when it has any
            try:
                following = loader.peek_event()
            except yaml.YAMLError:  # a broken second document is still a second document
                following = None
            where = following if isinstance(following, yaml.NodeEvent) else start
            raise _LoadFailed(*_event_mark(where), "several YAML documents in one file; a spec file holds "
                              "exactly one")
        return document
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        if "\t" in text and "cannot start any token" in reason:
            reason += " (tabs cannot indent YAML; use spaces)"
        raise _LoadFailed(line, column, f"invalid YAML: {reason}") from None
    except yaml.YAMLError as exc:  # reader errors (control characters) carry a position of their own
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if position is not None else 1
        column = position - (text.rfind("\n", 0, position) + 1) + 1 if position is not None else 1
        raise _LoadFailed(line, column, f"invalid YAML: {getattr(exc, 'reason', exc)}") from None
    finally:
        loader.dispose()


def load_text(text: str, file: str) -> LoadedSpec | Problem:
    """Parse spec text; return the data with positions, or the one problem that stops parsing."""
    spec = LoadedSpec(file=file, data={})
    try:
        document = _compose(text)
        if not isinstance(document, yaml.MappingNode):
            kind = "a list" if isinstance(document, yaml.SequenceNode) else "a single value"
            raise _LoadFailed(*_mark(document), f"a spec must be a YAML mapping of keys to values, not {kind}")
        spec.data = _Converter(spec).convert(document, (), 0)
    except _LoadFailed as failed:
        return Problem(file, failed.line, failed.column, _dotted(failed.path), failed.message)
    return spec


_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _unsafe_path(path: Path, file: str) -> bool:
    """The spec's path is written into every generated file's header comment (and README commands): a line break
    in it would turn the rest of the name into YAML, Python, Dockerfile or requirements lines."""
    texts = [file, str(path)]
    with contextlib.suppress(OSError, RuntimeError):
        texts.append(str(path.resolve()))  # a symlink's target is what the renderer shows
    return any(_UNSAFE_IN_PATH.search(text) or any(unicodedata.category(c) == "Cf" for c in text)
               for text in texts)


def load_file(path: Path, shown_as: str | None = None) -> LoadedSpec | Problem:
    """Read and parse one spec file, refusing oversized and undecodable input before parsing it."""
    file = shown_as or str(path)
    if _unsafe_path(path, file):
        return Problem(file.encode("unicode_escape").decode("ascii"), 1, 1, "",
                       "the spec's path contains control or invisible characters (it is written into generated "
                       "files); rename it")
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            return _too_large(file, size)
        raw = path.read_bytes()
    except OSError as exc:
        return Problem(file, 1, 1, "", f"cannot read file: {exc.strerror or exc}")
    return load_bytes(raw, file)


def _too_large(file: str, size: int) -> Problem:
    return Problem(file, 1, 1, "", f"file is {size / 1024 / 1024:.1f} MiB; a spec may be at most "
                                   f"{MAX_SPEC_BYTES // 1024} KiB")


def load_bytes(raw: bytes, file: str) -> LoadedSpec | Problem:
    """Parse a file's bytes (size, encoding and YAML problems positioned)."""
    if len(raw) > MAX_SPEC_BYTES:
        return _too_large(file, len(raw))
    try:
        text = _decode(raw)
    except _LoadFailed as failed:
        return Problem(file, failed.line, failed.column, "", failed.message)
    loaded = load_text(text, file)
    if isinstance(loaded, LoadedSpec):
        loaded.raw = canonical_spec_bytes(raw)  # what the spec says, however it was checked out
    return loaded
