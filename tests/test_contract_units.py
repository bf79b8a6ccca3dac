"""The script contract at unit level: `_flags` markers, `flags_of`, and `script_call` refusing undeclared flags,
checked against the argparse parsers of the gate scripts themselves."""

from __future__ import annotations

import argparse

import pytest

from mlops_gen.render.filters import script_call
from mlops_gen.stages import _flags, flags_of
from tests.test_boundaries import champion_challenger, validate_metrics
from tests.test_mut_monitor import monitor


def test_flag_markers() -> None:
    required, optional, repeat, switch = _flags("--a!", "--b", "--c*", "--d?")
    assert (required.name, required.required, required.repeat, required.switch) == ("--a", True, False, False)
    assert (optional.name, optional.required, optional.repeat, optional.switch) == ("--b", False, False, False)
    assert (repeat.name, repeat.required, repeat.repeat, repeat.switch) == ("--c", False, True, False)
    assert (switch.name, switch.required, switch.repeat, switch.switch) == ("--d", False, False, True)


def test_smoke_test_flags_are_required() -> None:
    flags = flags_of("tests/smoke_test.py")
    assert flags["--endpoint-file"].required and flags["--test-data"].required


@pytest.mark.parametrize(("script", "module"), [
    ("src/validation/validate_metrics.py", validate_metrics),
    ("src/validation/champion_challenger.py", champion_challenger),
    ("src/deployment/monitor_deployment.py", monitor),
])
def test_contract_matches_the_script_parser(script: str, module: object) -> None:
    parser: argparse.ArgumentParser = module.build_parser()  # type: ignore[attr-defined]
    actions = {a.option_strings[-1]: a for a in parser._actions if a.option_strings and a.dest != "help"}
    declared = flags_of(script)
    assert sorted(actions) == sorted(declared)
    for name, flag in declared.items():
        assert actions[name].required == flag.required, name
        assert isinstance(actions[name], argparse._AppendAction) == flag.repeat, name
        assert (actions[name].nargs == 0) == flag.switch, name


def test_script_call_renders_declared_flags_and_refuses_others() -> None:
    text = script_call("tests/smoke_test.py", [("--endpoint-file", "e p.json"), ("--test-data", "d.json")])
    assert text == "python tests/smoke_test.py \\\n  --endpoint-file 'e p.json' \\\n  --test-data d.json"
    with pytest.raises(ValueError, match="declares no flag --bogus"):
        script_call("tests/smoke_test.py", [("--endpoint-file", "e.json"), ("--bogus", "x")])
    with pytest.raises(KeyError):  # a script outside the contract has no flags to render
        script_call("src/nowhere.py", [])


def test_flag_markers_strip_only_the_marker_characters() -> None:
    # a name is the spec minus its trailing markers; letters of the name itself survive, whatever they are
    assert [f.name for f in _flags("--suffix-X", "--XX!", "--a-b*", "--q?")] == ["--suffix-X", "--XX", "--a-b", "--q"]
