"""A reviewer's summary of a spec change: walk the previous and current spec data and name what moved.

For example `quality_gates.metrics.accuracy.min: 0.85 → 0.9; rollout.increments: 75 added`. The previous version
comes from git (`git show REV:./<file>`, run with list arguments, only inside a work tree).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from mlops_gen.spec.loader import LoadedSpec, load_text

MAX_SHOWN = 60


def _show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    text = value if isinstance(value, str) else json.dumps(value, separators=(", ", ": "), ensure_ascii=False,
                                                           default=str)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def _named(items: list[Any]) -> dict[str, Any] | None:
    """Lists of mappings with unique names (environments, extension steps) compare by name, not position."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    names = [i["name"] for i in items]
    return dict(zip(names, items, strict=True)) if len(set(names)) == len(names) else None


def changes(old: Any, new: Any, path: str = "") -> list[str]:
    where = path or "(spec)"
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in [*new, *(k for k in old if k not in new)]:
            child = f"{path}.{key}" if path else str(key)
            if key not in old:
                found.append(f"{child}: added ({_show(new[key])})")
            elif key not in new:
                found.append(f"{child}: removed (was {_show(old[key])})")
            else:
                found.extend(changes(old[key], new[key], child))
        return found
    if isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _named(old), _named(new)
        if old_named is not None and new_named is not None:
            found = []
            for name in [*new_named, *(n for n in old_named if n not in new_named)]:
                child = f"{path}[{name}]"
                if name not in old_named:
                    found.append(f"{child}: added")
                elif name not in new_named:
                    found.append(f"{child}: removed")
                else:
                    found.extend(changes(old_named[name], new_named[name], child))
            if not found and list(old_named) != list(new_named):
                found.append(f"{where}: reordered")
            return found
        if all(not isinstance(v, (dict, list)) for v in [*old, *new]):
            added = [v for v in new if v not in old]
            removed = [v for v in old if v not in new]
            parts = [f"{', '.join(map(_show, added))} added"] if added else []
            parts += [f"{', '.join(map(_show, removed))} removed"] if removed else []
            if not parts and old != new:
                parts = ["reordered"]
            return [f"{where}: {'; '.join(parts)}"] if parts else []
    if type(old) is not type(new) and not {type(old), type(new)} <= {int, float}:
        return [f"{where}: {json.dumps(old, default=str)} → {json.dumps(new, default=str)}"]  # show the types
    if old != new:
        return [f"{where}: {_show(old)} → {_show(new)}"]
    return []


@cache
def _in_work_tree(git: str, directory: str) -> bool:
    try:
        inside = subprocess.run([git, "-C", directory, "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return inside.returncode == 0 and inside.stdout.strip() == "true"


def previous_text(path: Path, base: str = "HEAD") -> str | None:
    """The spec file's text at git revision `base`, or None (no git, not a work tree, untracked, or new)."""
    git = shutil.which("git")
    if git is None or base.startswith("-") or not path.is_file():
        return None
    directory = str(path.resolve().parent)
    if not _in_work_tree(git, directory):
        return None
    try:
        shown = subprocess.run([git, "-C", directory, "show", f"{base}:./{path.name}"],
                               capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if shown.returncode != 0:
        return None
    return shown.stdout.decode("utf-8", errors="replace").removeprefix("\ufeff")


def summary(path: Path, shown: str, current: dict[str, Any], base: str = "HEAD") -> str | None:
    """`<spec> since <base>: change; change` or None when there is no previous version or no change."""
    text = previous_text(path, base)
    if text is None:
        return None
    loaded = load_text(text, f"{shown}@{base}")
    if not isinstance(loaded, LoadedSpec):
        return f"{shown} since {base}: the previous version does not parse ({loaded})"
    found = changes(loaded.data, current)
    return f"{shown} since {base}: {'; '.join(found)}" if found else None
