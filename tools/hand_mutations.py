#!/usr/bin/env python3
"""Issue 15's nine hand-made mutations: each is applied to a temporary copy of the repository and the named fast
test files are run against it; a mutation is killed when they fail. None of them is the golden record, whose
failure only says "regenerate". Prints one line per mutation; exit 1 when any survives.

    python tools/hand_mutations.py

Each mutation is a bug that once slipped through every test (docs/testing.md); mutmut (tools/mutation.py) cannot
make some of them (the credential patterns are module-level constants, the blue-green order is a whole-step move).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

@dataclass(frozen=True)
class Mutation:
    title: str
    path: str
    old: str  # must occur exactly once in `path`
    new: str
    tests: tuple[str, ...]


SPEC_TESTS = ("tests/test_boundaries.py", "tests/test_spec_rules.py")
MUTATIONS = (
    Mutation("ratio threshold of exactly 1.0 rejected", "mlops_gen/spec/semantic.py",
             "if not 0.0 <= value <= 1.0:", "if not 0.0 <= value < 1.0:", SPEC_TESTS),
    Mutation("min == max rejected", "mlops_gen/spec/semantic.py",
             "bound.min > bound.max:", "bound.min >= bound.max:", SPEC_TESTS),
    Mutation("GitLab-token pattern disabled", "mlops_gen/spec/secrets.py",
             'r"\\bglpat-[A-Za-z0-9_-]{20,}"', 'r"(?!x)x"', ("tests/test_secrets_patterns.py",)),
    Mutation("SAS-token pattern disabled", "mlops_gen/spec/secrets.py",
             'r"[?&]sig=[A-Za-z0-9%+/=]{20,}"', 'r"(?!x)x"', ("tests/test_secrets_patterns.py",)),
    Mutation("required script flags treated as optional", "mlops_gen/stages.py",
             'required=spec.endswith("!")', "required=False",
             ("tests/test_contract_units.py", "tests/test_script_contract.py", "tests/test_script_cli.py")),
    Mutation("script_call no longer refuses undeclared flags", "mlops_gen/render/filters.py",
             '        if flag not in declared:\n            raise ValueError(f"{script} declares no flag {flag}")\n',
             "", ("tests/test_contract_units.py", "tests/test_mut_filters.py")),
    Mutation("hand-edited .yml reported as stale after a spec change", "mlops_gen/output/changes.py",
             '"stale" if sha256(old) == previous.sha256 else "hand-edited"', '"stale"',
             ("tests/test_check_verdicts.py", "tests/test_change_planner.py")),
    Mutation("validate_metrics gate < becomes <=", "templates/scripts/src/validation/validate_metrics.py",
             'bound == "min" and value < limit:', 'bound == "min" and value <= limit:',
             ("tests/test_boundaries.py", "tests/test_mut_gates.py")),
    Mutation("Azure DevOps blue-green tests moved after the traffic switch", "mlops_gen/targets/azure_release.py",
             "        out[HOOKS[current]].append(step)",
             '        out[HOOKS[3] if step.kind == "test" else HOOKS[current]].append(step)',
             ("tests/test_parity.py", "tests/test_azure_devops.py")),
)

IGNORE = shutil.ignore_patterns(".git", ".venv", "mutants", "__pycache__", "*.egg-info", "out", ".mlops")


def run(root: Path) -> bool:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the copy's mlops_gen, not the installed one
    survived = False
    for mutation in MUTATIONS:
        title, path = mutation.title, mutation.path
        file = root / path
        original = file.read_text(encoding="utf-8")
        if original.count(mutation.old) != 1:
            print(f"STALE: {title}: the code to mutate is no longer in {path}; update this table")
            survived = True
            continue
        file.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
        try:
            result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m",
                                     "not slow", *mutation.tests], cwd=root, env=env, capture_output=True, text=True,
                                    timeout=1800, check=False)
        finally:
            file.write_text(original, encoding="utf-8")
        failed = next((line for line in result.stdout.splitlines() if line.startswith("FAILED")), "")
        killed = result.returncode == 1
        survived |= not killed
        print(f"{'killed' if killed else f'SURVIVED (pytest exit {result.returncode})'}: {title} [{path}]"
              f"{' by ' + failed.split(' - ')[0].removeprefix('FAILED ') if failed else ''}", flush=True)
    return not survived


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mlops-gen-hand-mutations-") as scratch:
        root = Path(scratch) / "repo"
        shutil.copytree(REPO, root, ignore=IGNORE)
        return 0 if run(root) else 1


if __name__ == "__main__":
    sys.exit(main())
