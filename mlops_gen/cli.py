"""Command-line interface: parse options, call one core function per command, map the outcome to an exit code.

Heavy modules (pydantic, jinja2, jsonschema) are imported inside the commands so `--help` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, NoReturn, TypeVar

import click

from mlops_gen import __version__
from mlops_gen.errors import ENVIRONMENT_ERRNOS, EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, MlopsGenError
from mlops_gen.registry import TARGETS

F = TypeVar("F", bound=Callable[..., Any])




def _handled(command: F) -> F:
    """The one error handler: user errors print their message (exit 2), bugs print where the traceback went."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            code = command(*args, **kwargs)
        except MlopsGenError as exc:
            click.echo(str(exc), err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except OSError as exc:
            if exc.filename is None and exc.errno in ENVIRONMENT_ERRNOS:  # raised where no folder was known
                click.echo(f"mlops-gen: {exc.strerror or exc}", err=True)
                sys.exit(EXIT_USER_ERROR)
            if exc.filename is None:
                _internal_error(exc)
            # A path the user gave cannot be read or written (missing parent, a file where a folder should be,
            # permissions, disk full): their environment, not our bug.
            click.echo(f"mlops-gen: {exc.filename}: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_USER_ERROR)
        except Exception as exc:  # an mlops-gen bug, never a user's mistake
            _internal_error(exc)
        sys.exit(code or 0)

    return wrapper  # type: ignore[return-value]


def _internal_error(exc: BaseException) -> NoReturn:
    """One short line on stderr; the full traceback goes to a private file in the system temporary directory."""
    import tempfile  # only on this path: together ~8 ms of every command's start-up
    import traceback

    summary = " ".join(str(exc).split())
    summary = summary if len(summary) <= 160 else summary[:157] + "..."
    try:
        with tempfile.NamedTemporaryFile("w", prefix="mlops-gen-crash-", suffix=".txt", delete=False) as log:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=log)
        where = f"traceback in {log.name}"
    except OSError as log_error:  # nowhere to write it: say so rather than crash in the crash handler
        where = f"traceback not saved: {log_error.strerror or log_error}"
    click.echo(f"mlops-gen: internal error: {type(exc).__name__}: {summary} ({where}; please report it)", err=True)
    sys.exit(EXIT_INTERNAL_ERROR)


_override_dir = click.option(
    "--override-dir", "override_dirs", multiple=True, type=click.Path(file_okay=False),
    help="Directory of template overrides (same relative paths as the built-in templates), searched first; "
         "repeatable. Pass the same directories to generate, check and diff.")


_config = click.option(
    "--config", "config_option", type=click.Path(dir_okay=False), metavar="FILE",
    help="Repository configuration [default: the nearest mlops-gen.yaml from the working directory up to the "
         "repository root].")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", "-V", prog_name="mlops-gen", message="%(prog)s %(version)s")
def main() -> None:
    """Validate ML model pipeline specs and generate their CI/CD pipelines, stage scripts and deployment files.

    Exit codes: 0 ok, 1 differences found (check, diff) or a gate failed (run-local), 2 invalid input or usage.
    """


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-j", "--jobs", default=0, show_default=True, type=click.IntRange(min=0),
              help="Worker processes for validating; 0 picks one per core when there are many specs.")
@_config
def validate(paths: tuple[str, ...], jobs: int, config_option: str | None) -> None:
    """Validate spec files, or directories of *.yaml/*.yml specs, against the repository configuration's
    defaults and policies when there is one."""
    from mlops_gen.commands.validate import run_validate

    _handled(run_validate)(paths, config_option, jobs)


@main.command()
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--full", is_flag=True, help="Also show every built-in default, marked 'default'.")
@_config
def resolve(spec: str, full: bool, config_option: str | None) -> None:
    """Print SPEC as resolved against the repository configuration's defaults, each inherited value marked with
    the line it comes from."""
    from mlops_gen.commands.resolve import run_resolve

    _handled(run_resolve)(spec, full, config_option)


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--document", type=click.Choice(["spec", "config"]), default="spec", show_default=True,
              help="The spec's schema, or that of the repository configuration (mlops-gen.yaml).")
def schema(output: str | None, document: str) -> None:
    """Print the JSON Schema (draft 2020-12) of the spec or of the repository configuration."""
    from mlops_gen.commands.schema import run_schema

    _handled(run_schema)(output, document)


@main.command()
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Spec file to write [default: NAME.yaml].")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(name: str, output: str | None, force: bool) -> None:
    """Write an annotated starter spec for model NAME that validates as written."""
    from mlops_gen.commands.init import run_init

    _handled(run_init)(name, output, force)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(file_okay=False),
              help="Output directory; each model gets OUTPUT/<model.name>/ [default: the configuration's output, "
                   "else generated].")
@click.option("--target", "targets", multiple=True, type=click.Choice(TARGETS),
              help="Render only these targets (repeatable) [default: all the spec enables].")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("-v", "--verbose", is_flag=True, help="List every file.")
@_override_dir
@click.option("-j", "--jobs", default=0, show_default=True, type=click.IntRange(min=0),
              help="Worker processes for rendering; 0 picks one per core when there are many specs.")
@click.option("--adopt", "adopt", multiple=True, type=click.Path(dir_okay=False), metavar="PATH",
              help="Hand over a file mlops-gen did not write at a path it now generates: replace it and track it "
                   "from then on (repeatable). Without it, generate refuses to overwrite such files.")
@_config
def generate(paths: tuple[str, ...], output: str | None, targets: tuple[str, ...], dry_run: bool, verbose: bool,
             override_dirs: tuple[str, ...], jobs: int, adopt: tuple[str, ...], config_option: str | None) -> None:
    """Render pipelines, scripts and deployment files for each spec.

    Writes only files whose bytes change, deletes files it generated before that are no longer planned, never
    touches files it does not own (a file of yours where a generated file is now planned stops the run: see
    --adopt), and records what it wrote in OUTPUT/<model>/.mlops-gen/manifest.json.
    """
    from mlops_gen.commands.generate import run_generate

    _handled(run_generate)(paths, output, targets or TARGETS, dry_run, verbose, override_dirs, jobs, adopt,
                           config_option)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(file_okay=False),
              help="Output directory holding OUTPUT/<model.name>/ [default: the configuration's output, else "
                   "generated].")
@_override_dir
@click.option("-v", "--verbose", is_flag=True, help="List every file, including user-owned (seeded) ones.")
@click.option("-j", "--jobs", default=0, show_default=True, type=click.IntRange(min=0),
              help="Worker processes for comparing folders; 0 picks one per core when there are many.")
@_config
def check(paths: tuple[str, ...], output: str | None, override_dirs: tuple[str, ...], verbose: bool, jobs: int,
          config_option: str | None) -> None:
    """Exit 1 when generated files are stale, hand-edited, missing or orphaned; 0 when up to date.

    Files a previous check found intact and whose size, times and inode have not changed since are not read
    again (records in the user's cache folder; set MLOPS_GEN_NO_STAT_CACHE=1 to read every file).
    """
    from mlops_gen.commands.check import run_check

    _handled(run_check)(paths, output, override_dirs, verbose, jobs, config_option)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("-o", "--output", type=click.Path(file_okay=False),
              help="Output directory holding OUTPUT/<model.name>/ [default: the configuration's output, else "
                   "generated].")
@click.option("--stat", is_flag=True, help="Only list changed files with added/removed line counts.")
@_override_dir
@click.option("--base", default="HEAD", show_default=True, metavar="REV",
              help="Git revision whose version of each spec the semantic change summary compares against.")
@_config
def diff(paths: tuple[str, ...], output: str | None, stat: bool, override_dirs: tuple[str, ...], base: str,
         config_option: str | None) -> None:
    """Show what generate would change as a unified diff; exit 1 when there is any change.

    When a spec's BASE version is in git, first prints a one-line summary of the spec change for PR descriptions.
    """
    from mlops_gen.commands.diff import run_diff

    _handled(run_diff)(paths, output, stat, override_dirs, base, config_option=config_option)


@main.command("run-local")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--workdir", default=".mlops-gen-work", show_default=True, type=click.Path(file_okay=False),
              help="Where the model folder, venv, MLflow store, local endpoints and summary.json go.")
@click.option("--through", metavar="ENV", help="Release to each environment up to ENV (default: the first).")
@click.option("--inject", metavar="FAULT",
              help="Face a failure in ENV's release: canary-errors, slow-candidate, smoke-failure; or drift.")
@click.option("--monitor-seconds", default=6, show_default=True, type=click.IntRange(1, 3600),
              help="Length of each local observation window (at most the spec's).")
@_config
def run_local(spec: str, workdir: str, through: str | None, inject: str | None, monitor_seconds: int,
              config_option: str | None) -> None:
    """Run the pipeline on this machine: training, gates, registration, then the release to each environment up
    to ENV behind local routers that split traffic by weight, with rollback on failure."""
    from mlops_gen.commands.run_local import run_run_local

    _handled(run_run_local)(spec, workdir, through, inject, monitor_seconds, config_option)


def run(argv: Sequence[str]) -> int:
    """Run the CLI with `argv`; usage errors exit 2 (click's convention matches ours)."""
    try:
        main.main(args=list(argv), prog_name="mlops-gen", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USER_ERROR
    return 0
