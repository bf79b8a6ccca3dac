"""Mutation testing by hand, one module at a time: ``python tools/mutation.py MODULE`` (see docs/testing.md).

Runs mutmut 3 (``pip install -e '.[mutation]'``) on MODULE alone, with only that module's fast test files (never the
tests marked slow), one worker process, and prints the score (killed/total) and every surviving mutant. The defaults
of ``[tool.mutmut]`` in pyproject.toml are narrowed here, per module, because mutmut reads a single configuration and
running the whole suite for every mutant would take hours. Every run re-tests all of MODULE's mutants from scratch.
mutmut works in ``mutants/`` (git-ignored);
``mutmut show NAME`` prints the diff of one mutant afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GATES = "templates/scripts/src"

# MODULE -> the fast test files that exercise it (each mutant runs only the tests that reached the mutated function).
MODULES: dict[str, list[str]] = {
    "mlops_gen/spec/secrets.py": ["tests/test_secrets_patterns.py", "tests/test_mut_spec.py"],
    "mlops_gen/render/filters.py": ["tests/test_contract_units.py", "tests/test_mut_filters.py"],
    "mlops_gen/stages.py": ["tests/test_contract_units.py", "tests/test_script_contract.py",
                            "tests/test_script_cli.py"],
    "mlops_gen/spec/semantic.py": ["tests/test_spec_rules.py", "tests/test_boundaries.py", "tests/test_mut_spec.py"],
    "mlops_gen/output/paths.py": ["tests/test_mut_paths.py"],
    "mlops_gen/output/changes.py": ["tests/test_change_planner.py", "tests/test_check_verdicts.py"],
    f"{GATES}/validation/validate_metrics.py": ["tests/test_boundaries.py", "tests/test_mut_gates.py",
                                                "tests/test_script_cli.py"],
    f"{GATES}/validation/fairness_assessment.py": ["tests/test_fairness_drift_gates.py", "tests/test_script_cli.py"],
    f"{GATES}/validation/champion_challenger.py": ["tests/test_boundaries.py", "tests/test_mut_gates.py",
                                                   "tests/test_champion_split.py", "tests/test_script_cli.py"],
    f"{GATES}/monitoring/detect_drift.py": ["tests/test_fairness_drift_gates.py", "tests/test_script_cli.py"],
    f"{GATES}/deployment/monitor_deployment.py": ["tests/test_mut_monitor.py", "tests/test_script_cli.py"],
    f"{GATES}/deployment/promote.py": ["tests/test_release_scripts.py", "tests/test_script_cli.py"],
    f"{GATES}/deployment/rollback.py": ["tests/test_release_scripts.py", "tests/test_script_cli.py"],
}


KILLED = {1, 3, 36, 24, -24, 152}  # a test failed, pytest crashed, or the mutant timed out (mutmut's own reading)


def score(module: str) -> tuple[int, int, list[str]]:
    """(killed, total, survivors) from mutmut's record of MODULE. Everything not killed counts against the score:
    survived, no test reached it, not checked, suspicious."""
    from mutmut.stats import status_by_exit_code

    meta = json.loads((ROOT / "mutants" / f"{module}.meta").read_text(encoding="utf-8"))
    codes: dict[str, int | None] = meta["exit_code_by_key"]
    survivors = sorted(f"{name} ({status_by_exit_code[code]})" for name, code in codes.items() if code not in KILLED)
    return len(codes) - len(survivors), len(codes), survivors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", choices=sorted(MODULES), help="the source file to mutate")
    parser.add_argument("--max-children", type=int, default=1, help="worker processes (default 1: shared machine)")
    parser.add_argument("--diff", action="store_true", help="print the diff of every mutant not killed")
    args = parser.parse_args(argv)
    tests = [t for t in MODULES[args.module] if (ROOT / t).is_file()]

    os.chdir(ROOT)
    # Start from nothing for this module: mutmut's cached test statistics were recorded while only the previously run
    # module was mutated (its trampolines saw no calls into this one, so every mutant here would read "no tests"),
    # and cached verdicts would not see tests added since.
    # The module's copy goes too: mutmut skips a file whose copy is newer than the source (a plain copy left by the run
    # of another module would then never be mutated).
    mutants = ROOT / "mutants"
    for stale in (mutants / "mutmut-stats.json", mutants / f"{args.module}.meta", mutants / args.module):
        stale.unlink(missing_ok=True)
    from mutmut import configuration  # mutmut reads pyproject.toml from the working folder

    config = configuration._load_config()
    config.only_mutate = [args.module]
    config.pytest_add_cli_args_test_selection = tests
    configuration._config = config

    from mutmut.__main__ import cli  # imported after the configuration is set: some mutmut modules read it on import

    try:
        cli(["run", "--max-children", str(args.max_children)], standalone_mode=False)
    except SystemExit as stop:
        if stop.code:
            return int(stop.code)
    killed, total, survivors = score(args.module)
    print(f"\n{args.module}: {killed}/{total} killed ({100 * killed / max(total, 1):.1f} %) with {' '.join(tests)}")
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    for name in survivors:
        print(f"  survived: {name}")
        if args.diff:  # printed now: `mutmut show` only works until another module's run replaces mutants/
            print("    " + get_diff_for_mutant(name.split(" ")[0], path=Path(args.module)).replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
