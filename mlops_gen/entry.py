"""Process entry point: answers `--version` before importing anything heavy, then hands over to click."""

from __future__ import annotations

import sys


def main() -> None:
    argv = sys.argv[1:]
    if argv in (["--version"], ["-V"]):
        from mlops_gen import __version__

        sys.stdout.write(f"mlops-gen {__version__}\n")
        raise SystemExit(0)
    from mlops_gen.cli import run

    raise SystemExit(run(argv))
