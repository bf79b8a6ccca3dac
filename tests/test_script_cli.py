"""The command-line surface of every stage script, in-process (so mutation testing sees it, docs/testing.md):

- each parser declares exactly the flags of the script contract (mlops_gen/stages.py, the one source the templates
  render calls from), with the same required, repeatable and switch markers;
- every option explains itself in `--help`, under a one-sentence description;
- the wording of that help is a reviewed snapshot (tests/__snapshots__/test_script_cli.ambr): it is what a pipeline
  author reads, so a change to it shows in the pull request like any generated file. The snapshot holds the texts
  themselves, not argparse's formatting, which differs between Python versions.
"""

from __future__ import annotations

import argparse
from types import ModuleType
from typing import Any

import pytest

from mlops_gen.stages import SCRIPTS, flags_of
from tests.template_scripts import load_script

# The scripts under src/ (tests/smoke_test.py is the generated test suite's, run by pytest there).
STAGE_SCRIPTS = sorted(script for script in SCRIPTS if script.startswith("src/"))


def parser_of(script: str) -> argparse.ArgumentParser:
    """Built inside each test, never cached: mutmut runs a mutant with only the tests it saw reach the mutated
    function, so a parser shared through a module fixture would be credited to the first test alone."""
    module: ModuleType = load_script(script.removeprefix("src/"))
    parser: argparse.ArgumentParser = module.build_parser()
    return parser


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.option_strings[-1]: a for a in parser._actions if a.option_strings and a.dest != "help"}


@pytest.mark.parametrize("script", STAGE_SCRIPTS)
def test_parser_declares_the_contracts_flags(script: str) -> None:
    options = _options(parser_of(script))
    declared = flags_of(script)
    assert sorted(options) == sorted(declared)
    for name, flag in declared.items():
        action = options[name]
        assert action.required == flag.required, name
        assert isinstance(action, argparse._AppendAction) == flag.repeat, name
        assert (action.nargs == 0) == flag.switch, name
        if flag.repeat:  # a repeatable flag given no times is an empty list, not None
            assert action.default == [] or action.default is None, name


@pytest.mark.parametrize("script", STAGE_SCRIPTS)
def test_required_flags_are_refused_when_missing(script: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """argparse itself refuses a missing required flag (exit 2, naming it), before the script does any work."""
    required = [name for name, flag in flags_of(script).items() if flag.required]
    assert required  # every stage script needs something to work on
    with pytest.raises(SystemExit) as exit_info:
        parser_of(script).parse_args([])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert [name for name in required if name not in error] == []


@pytest.mark.parametrize("script", STAGE_SCRIPTS)
def test_every_option_explains_itself(script: str) -> None:
    parser = parser_of(script)
    undocumented = [name for name, action in _options(parser).items() if not (action.help or "").strip()]
    assert undocumented == []
    assert (parser.description or "").endswith("."), parser.description  # one sentence; its words are snapshotted


def test_help_texts_are_the_reviewed_ones(snapshot: Any) -> None:
    parsers = {script: parser_of(script) for script in STAGE_SCRIPTS}
    surface = {script: {"description": parser.description,
                        "options": {name: action.help for name, action in sorted(_options(parser).items())}}
               for script, parser in parsers.items()}
    assert surface == snapshot
