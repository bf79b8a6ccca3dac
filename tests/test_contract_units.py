"""The script contract at unit level: `_flags` markers, `flags_of`, and `script_call` refusing undeclared flags.
Every stage script's parser is checked against the contract in tests/test_script_cli.py."""

from __future__ import annotations

import pytest

from mlops_gen.render.filters import script_call
from mlops_gen.stages import _flags, flags_of


def test_flag_markers() -> None:
    required, optional, repeat, switch = _flags("--a!", "--b", "--c*", "--d?")
    assert (required.name, required.required, required.repeat, required.switch) == ("--a", True, False, False)
    assert (optional.name, optional.required, optional.repeat, optional.switch) == ("--b", False, False, False)
    assert (repeat.name, repeat.required, repeat.repeat, repeat.switch) == ("--c", False, True, False)
    assert (switch.name, switch.required, switch.repeat, switch.switch) == ("--d", False, False, True)
    (both,) = _flags("--e*!")
    assert (both.name, both.required, both.repeat, both.switch) == ("--e", True, True, False)


def test_smoke_test_flags_are_required() -> None:
    flags = flags_of("tests/smoke_test.py")
    assert flags["--endpoint-file"].required and flags["--test-data"].required


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
