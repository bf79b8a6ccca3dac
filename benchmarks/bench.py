#!/usr/bin/env python3
"""Benchmark mlops-gen where users feel it: cold start, validate/generate/check on 1 and N specs, the floor, copier,
and the same N specs in the monorepo layout (issue 14), measured in the same run.

    python benchmarks/bench.py [--n 500] [--reps 5] [--quick] [--json out.json]

Every command runs as its own process (`mlops-gen`, the console script beside this interpreter, or
`python -m mlops_gen` when there is none), timed with time.perf_counter() around spawn and exit; each figure is
the median of --reps runs after one untimed warm-up run. Peak memory is the child's ru_maxrss from wait4() and,
when generate forks workers, the sampled sum of the process tree's resident memory. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import copier_alt
import floor
import synth

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(1, str(REPO))  # in-process planning (floor, copier data) uses the same checkout as the commands
HEAVY = ("pydantic", "jinja2", "jsonschema")
MONOREPO_CONFIG = "apiVersion: mlops-gen/v1\nkind: RepositoryConfig\nlayout: monorepo\noutput: generated\n"
Hook = Callable[[], None]


@dataclass
class Metric:
    key: str
    unit: str
    value: float | None = None
    samples: list[float] = field(default_factory=list)
    target: str = ""
    ratio: float | None = None
    ratio_to: str = ""
    ok: bool | None = None  # None: informational, no target
    note: str = ""
    error: str | None = None


class BenchError(Exception):
    pass


@dataclass
class Outcome:
    seconds: float
    maxrss_kib: int
    code: int
    stderr: str
    tree_kib: int = 0  # sampled peak of the process tree, when watched


class Runner:
    """Runs one command per process and measures wall time and the child's peak resident memory."""

    def __init__(self, cli: list[str], env: dict[str, str]) -> None:
        self.cli, self.env = cli, env

    def once(self, argv: Sequence[str], cwd: Path, watch: bool = False) -> Outcome:
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            proc = subprocess.Popen(list(argv), cwd=cwd, stdout=out, stderr=err, env=self.env)
            watcher = TreeWatcher(proc.pid) if watch else None
            _, status, usage = os.wait4(proc.pid, 0)  # per-child rusage, unlike getrusage(RUSAGE_CHILDREN)
            seconds = time.perf_counter() - started
            tree_kib = watcher.stop() if watcher else 0
            proc.returncode = os.waitstatus_to_exitcode(status)
            err.seek(0)
            stderr = err.read().decode("utf-8", "replace")
        kib = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
        return Outcome(seconds, kib, proc.returncode, stderr, tree_kib)

    def sample(self, argv: Sequence[str], cwd: Path, reps: int, expect: int = 0, before: Hook | None = None,
               after: Hook | None = None, warmup: bool = True, watch_last: bool = False) -> list[Outcome]:
        """An untimed warm-up run (unless a previous scenario warmed the same files), then `reps` measured runs;
        hooks run outside the timed region; `watch_last` samples the process tree's memory in the last run."""
        outcomes = []
        for rep in range(0 if warmup else 1, reps + 1):
            if before:
                before()
            outcome = self.once(argv, cwd, watch=watch_last and rep == reps)
            if after:
                after()
            crashed = "Traceback (most recent call last)" in outcome.stderr or "internal error" in outcome.stderr
            if outcome.code != expect or crashed:
                tail = outcome.stderr.strip().splitlines()[-3:]
                raise BenchError(f"`{' '.join(argv[-4:])}` exited {outcome.code}, expected {expect}: "
                                 + " | ".join(tail))
            if rep:
                outcomes.append(outcome)
        return outcomes


class TreeWatcher:
    """Samples the summed VmRSS of a process and its descendants every 10 ms (Linux /proc; elsewhere nothing).

    Worker processes' memory adds up, which the parent's ru_maxrss cannot show.
    """

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)
        if Path(f"/proc/{pid}/status").exists():
            self.thread.start()

    def descendants(self) -> list[int]:
        found, stack = [], [self.pid]
        while stack:
            current = stack.pop()
            found.append(current)
            try:
                for task in os.listdir(f"/proc/{current}/task"):
                    text = Path(f"/proc/{current}/task/{task}/children").read_text()
                    stack.extend(int(child) for child in text.split())
            except OSError:
                continue
        return found

    @staticmethod
    def rss_kib(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def poll(self) -> None:
        while not self.done.wait(0.01):
            self.peak_kib = max(self.peak_kib, sum(self.rss_kib(pid) for pid in self.descendants()))

    def stop(self) -> int:
        self.done.set()
        if self.thread.is_alive():
            self.thread.join()
        return self.peak_kib


def heavy_imports(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> list[str]:
    """Top-level packages among HEAVY that a command imports (PYTHONPROFILEIMPORTTIME works for any launcher)."""
    proc = subprocess.run(list(argv), cwd=cwd, env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
                          capture_output=True, text=True, check=False)
    names = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
             if line.startswith("import time:")}
    return sorted(names.intersection(HEAVY))


def compare_trees(expected: Path, actual: Path, only: Sequence[str] | None = None) -> dict[str, object]:
    """Byte comparison of every file under two directories (empty directories ignored).

    mlops-gen's own bookkeeping (`.mlops-gen/manifest.json` per model, the output directory's lock file) is not
    template output, so it is left out: the floor and copier write only what the templates produce.
    """
    def files(root: Path) -> dict[str, Path]:
        if not root.exists():
            return {}
        return {p.relative_to(root).as_posix(): p for p in root.rglob("*")
                if p.is_file() and not any(part.startswith(".mlops-gen") for part in p.relative_to(root).parts)}

    want, got = files(expected), files(actual)
    if only is not None:  # a subset of the model folders
        keep = set(only)
        want = {k: v for k, v in want.items() if k.split("/", 1)[0] in keep}
    differing = sorted(k for k in want.keys() & got.keys() if want[k].read_bytes() != got[k].read_bytes())
    return {"files": len(want), "identical": len(want.keys() & got.keys()) - len(differing),
            "differing": differing[:10], "differing_count": len(differing),
            "missing": sorted(want.keys() - got.keys())[:10], "missing_count": len(want.keys() - got.keys()),
            "extra": sorted(got.keys() - want.keys())[:10], "extra_count": len(got.keys() - want.keys())}


def filesystem(path: Path) -> str:
    """The type of the filesystem holding `path` (from /proc/mounts), e.g. ext4 or tmpfs."""
    best, kind = "", "unknown"
    try:
        for line in Path("/proc/mounts").read_text().splitlines():
            fields = line.split()
            if len(fields) > 2 and str(path).startswith(fields[1]) and len(fields[1]) > len(best):
                best, kind = fields[1], fields[2]
    except OSError:
        pass
    return kind


def settle() -> None:
    """Flush dirty pages before a timed run (outside it): a run that writes 100+ MB must not pay for the previous
    run's writeback, or the order of the runs decides the figures."""
    if hasattr(os, "sync"):
        os.sync()


def first_line(path: str) -> str:
    try:
        return Path(path).read_text().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def revision() -> str:
    """The checkout measured: commit and whether the work tree differs from it."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"commit {head}" + (" with uncommitted changes" if dirty else "")


def machine() -> dict[str, object]:
    def first(path: str, prefix: str) -> str:
        try:
            for line in Path(path).read_text().splitlines():
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "unknown"

    versions: dict[str, str | None] = {}
    for package in ("mlops-gen", "jinja2", "pydantic", "pyyaml", "copier"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # not installed: recorded as such
            versions[package] = None
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": affinity, "cpu_count": os.cpu_count(), "cpu_model": first("/proc/cpuinfo", "model name"),
        "memory_total": first("/proc/meminfo", "MemTotal"), "python": platform.python_version(),
        "python_implementation": platform.python_implementation(), "platform": platform.platform(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "versions": versions,
        "loadavg": first_line("/proc/loadavg"),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.metrics: dict[str, Metric] = {}
        self.fidelity: dict[str, object] = {}
        # mlops-gen's cache (compiled templates, check's stat records) starts empty in the work directory, for the
        # commands and for the floor rendered in this process alike: the first runs fill it, as a user's first would.
        os.environ["MLOPS_GEN_CACHE_DIR"] = str(work / "cache")
        # Nothing the benchmark runs (mlops-gen, copier, pip) writes to the user's own cache folder either.
        os.environ["XDG_CACHE_HOME"] = str(work / "xdg-cache")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPROFILEIMPORTTIME", "MLOPS_GEN_NO_STAT_CACHE")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        script = Path(sys.executable).parent / "mlops-gen"
        if args.invoke == "script" and script.exists():
            cli, self.invocation = [str(script)], f"{script} (console script)"
        else:
            cli, self.invocation = [sys.executable, "-m", "mlops_gen"], f"{sys.executable} -m mlops_gen"
        self.runner = Runner(cli, env)
        self.cli, self.env = cli, env

    # ----- helpers -----
    def metric(self, key: str, unit: str = "s") -> Metric:
        return self.metrics.setdefault(key, Metric(key, unit))

    def timed(self, key: str, argv: Sequence[str], cwd: Path, expect: int = 0, before: Hook | None = None,
              after: Hook | None = None, warmup: bool = True, watch_last: bool = False) -> list[Outcome]:
        metric = self.metric(key)
        try:
            reps = self.args.reps if warmup else self.args.reps_n  # the N-scale runs are the ones without warm-up
            outcomes = self.runner.sample(argv, cwd, reps, expect, before, after, warmup, watch_last)
        except BenchError as exc:
            metric.error = str(exc)
            return []
        metric.samples = [round(o.seconds, 4) for o in outcomes]
        metric.value = round(median(metric.samples), 4)
        return outcomes

    def ratio(self, numerator: str, denominator: str, limit: float | None) -> None:
        """Attach numerator/denominator to the numerator's row; with a limit, that ratio decides pass or fail."""
        metric, bottom = self.metric(numerator), self.metrics.get(denominator)
        metric.ratio_to = denominator
        metric.target = f"<= {limit:g}x {denominator}" if limit is not None else f"ratio to {denominator}"
        if metric.value is None or not bottom or not bottom.value:
            return
        metric.ratio = round(metric.value / bottom.value, 3)
        metric.ok = None if limit is None else metric.ratio <= limit

    def ratios(self) -> None:
        self.ratio("version", "python_startup", 2.0)
        self.ratio("generate_N", "floor_N", 1.3)
        self.ratio("check_N", "generate_N", 0.15)
        self.ratio("check_N_one_changed", "generate_N", None)
        for key in ("generate_N_jobs1", "generate_N_noop", "check_N_cold"):
            if key in self.metrics:
                self.ratio(key, "generate_N", None)
        for key in ("copier_cli_N", "copier_api_N"):
            self.ratio(key, "generate_N", None)
        # issue 14's targets for the monorepo layout, on the same N specs as the per-model rows
        self.ratio("mono_validate_N", "generate_N", None)
        self.ratio("generate_N_paired", "generate_N", None)
        self.ratio("mono_generate_N", "generate_N_paired", 0.25)
        self.ratio("mono_generate_N_noop", "mono_generate_N", None)
        self.ratio("mono_check_N", "mono_generate_N", 0.1)
        self.ratio("mono_check_N_cold", "mono_generate_N", 0.1)

    @staticmethod
    def fresh(path: Path) -> Hook:
        """Before a run into an empty output directory: delete the last run's, then settle the disk."""
        def hook() -> None:
            shutil.rmtree(path, ignore_errors=True)
            settle()

        return hook

    # ----- scenarios -----
    def cold_start(self) -> None:
        self.timed("python_startup", [sys.executable, "-c", "pass"], self.work)
        self.timed("version", [*self.cli, "--version"], self.work)
        self.timed("help", [*self.cli, "--help"], self.work)
        for command in ("--version", "--help"):
            found = heavy_imports([*self.cli, command], self.work, self.env)
            metric = self.metric(f"heavy_imports{command.replace('--', '_')}", "modules")
            metric.value, metric.target, metric.ok = len(found), "0 of " + ", ".join(HEAVY), not found
            metric.note = ", ".join(found)

    def one_spec(self) -> None:
        root = self.work / "one"
        synth.build_monorepo(root, 1)
        self.timed("validate_1", [*self.cli, "validate", "specs"], root)
        self.timed("generate_1", [*self.cli, "generate", "specs", "-o", "generated"], root,
                   before=self.fresh(root / "generated"))
        self.timed("check_1", [*self.cli, "check", "specs", "-o", "generated"], root)
        metric = self.metric("check_1")
        metric.target = "<= 0.3 s"
        metric.ok = None if metric.value is None else metric.value <= 0.3

    def many_specs(self) -> None:
        root, n = self.work / "mono", self.args.n
        paths = synth.build_monorepo(root, n)
        out = root / "generated"
        generate = [*self.cli, "generate", "specs", "-o", "generated"]
        self.timed("validate_N", [*self.cli, "validate", "specs"], root)
        # The runs below skip the warm-up run: the one-spec scenarios and validate_N warmed the interpreter's
        # bytecode cache, the templates and the specs, and each of these costs a minute at N=500 on 2 cores.
        jobs = self.generate_has_jobs()
        if jobs:
            self.timed("generate_N_jobs1", [*generate, "--jobs", "1"], root, before=self.fresh(out), warmup=False)
            self.metric("generate_N_jobs1").note = "generate --jobs 1 (one process)"
        outcomes = self.timed("generate_N", generate, root, before=self.fresh(out), warmup=False, watch_last=jobs)
        self.metric("generate_N").note = "fresh output directory each run" + (" (default --jobs)" if jobs else "")
        self.timed("generate_N_noop", generate, root, warmup=False, before=settle)
        self.metric("generate_N_noop").note = "generate again over an up-to-date output"
        self.timed("check_N", [*self.cli, "check", "specs", "-o", "generated"], root, warmup=False, before=settle)
        self.metric("check_N").note = ("as pre-commit runs it: repeated on one checkout, so files a previous check "
                                       "found intact are only stat()ed")
        self.check_without_records(root)

        if self.metric("check_N").value is None:
            self.metric("check_N_one_changed").error = "needs a working check of N unchanged specs"
        else:
            self.one_changed(root, paths[0], n)

        peak = self.metric("peak_rss_generate_N", "MiB")
        peak.target = "<= 300 MiB"
        if outcomes:
            largest = max(o.maxrss_kib for o in outcomes) / 1024
            peak.samples = [round(o.maxrss_kib / 1024, 1) for o in outcomes]
            peak.value = round(largest, 1)
            peak.note = "largest ru_maxrss of the generate N process (wait4)"
            if jobs:  # workers: their memory adds up, which per-process ru_maxrss cannot show
                tree = outcomes[-1].tree_kib / 1024
                peak.value = round(max(largest, tree), 1)
                peak.note += f"; whole process tree sampled every 10 ms in the last run: {tree:.1f} MiB"
            peak.ok = peak.value <= 300
        else:
            peak.error = "generate_N failed"
        self.generated = out

    def check_without_records(self, root: Path, key: str = "check_N_cold") -> None:
        """check of N unchanged specs as on a fresh clone or a CI runner: mlops-gen's cache folder (stat records,
        compiled templates) is empty before each run, so every file is read and hashed (and the records written)."""
        warm, cold = self.runner, self.work / "cache-cold"
        self.runner = Runner(self.cli, {**self.env, "MLOPS_GEN_CACHE_DIR": str(cold)})
        try:
            self.timed(key, [*self.cli, "check", "specs", "-o", "generated"], root, warmup=False,
                       before=self.fresh(cold))
        finally:
            self.runner = warm
            shutil.rmtree(cold, ignore_errors=True)
        self.metric(key).note = ("empty cache folder before each run (fresh clone, CI): no stat records, every "
                                 "file read and hashed")

    def one_changed(self, root: Path, changed: Path, n: int) -> None:
        """Edit one spec's threshold before each run (check must exit 1), restore it after."""
        original, tweak = changed.read_bytes(), iter(range(1, 1000))

        def edit() -> None:
            changed.write_text(synth.variant(0, max(4, len(str(n - 1))), tweak=next(tweak))[1], encoding="utf-8")

        check = [*self.cli, "check", "specs", "-o", "generated"]
        def restore() -> None:
            changed.write_bytes(original)

        self.timed("check_N_one_changed", check, root, expect=1, before=edit, after=restore)
        self.metric("check_N_one_changed").note = "one spec's threshold edited: check must exit 1"
        final = self.runner.once(check, root)
        if final.code != 0:
            self.metric("check_N").error = f"check after restoring the edited spec exited {final.code}"

    def generate_has_jobs(self) -> bool:
        proc = subprocess.run([*self.cli, "generate", "--help"], capture_output=True, text=True, env=self.env,
                              check=False)
        return "--jobs" in proc.stdout

    def monorepo(self) -> None:
        """The same N specs in a repository whose mlops-gen.yaml says `layout: monorepo` (issue 14): generate into
        an empty output, generate again, check warm and cold, and the files each model's unit owns."""
        root, n = self.work / "monorepo", self.args.n
        synth.build_monorepo(root, n)
        (root / "mlops-gen.yaml").write_text(MONOREPO_CONFIG, encoding="utf-8")
        out, workflows = root / "generated", root / ".github"

        def fresh() -> None:  # the shared unit's reusable workflows and the callers live in the root .github/
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(workflows, ignore_errors=True)
            settle()

        generate = [*self.cli, "generate", "specs", "-o", "generated"]
        check = [*self.cli, "check", "specs", "-o", "generated"]
        # Every generate validates every spec first: what validation alone costs bounds what generate can reach.
        self.timed("mono_validate_N", [*self.cli, "validate", "specs"], root)
        self.metric("mono_validate_N").note = "validate of the N specs in the monorepo repository"
        # The per-model generate and the monorepo one alternate, run by run, so that both see the same load on
        # the machine (the per-model rows were measured minutes earlier). No warm-up run, as for generate_N.
        self.paired([("generate_N_paired", generate, self.work / "mono", self.fresh(self.work / "mono" / "generated")),
                     ("mono_generate_N", generate, root, fresh)])
        self.metric("generate_N_paired").note = ("generate_N again, each run just before a mono_generate_N run: "
                                                 "the per-model figure the monorepo target is judged against")
        self.metric("mono_generate_N").note = ("layout: monorepo, the same N specs; empty output (generated/ and "
                                               ".github/) each run")
        per, mono = self.metric("generate_N_paired").samples, self.metric("mono_generate_N").samples
        if per and len(per) == len(mono):
            self.metric("mono_generate_N").note += "; run by run, x generate_N_paired: " + ", ".join(
                f"{m / p:.3f}" for p, m in zip(per, mono, strict=True))
        if self.metric("mono_generate_N").error:
            for key in ("mono_generate_N_noop", "mono_check_N", "mono_check_N_cold", "mono_files_per_model"):
                self.metric(key).error = "needs a working monorepo generate"
            return
        self.timed("mono_generate_N_noop", generate, root, warmup=False, before=settle)
        self.metric("mono_generate_N_noop").note = "generate again over an up-to-date monorepo output"
        self.timed("mono_check_N", check, root, warmup=False, before=settle)
        self.metric("mono_check_N").note = "repeated on one checkout: files a previous check found intact are stat()ed"
        self.check_without_records(root, "mono_check_N_cold")
        self.files_per_model(root, "mono_files_per_model", n, target=15)
        self.files_per_model(self.work / "mono", "files_per_model", n)

    def paired(self, runs: Sequence[tuple[str, list[str], Path, Hook]]) -> None:
        """Measure several commands in turn, --reps-n rounds of one run each: (key, argv, cwd, before-hook)."""
        for key, *_ in runs:
            self.metric(key)
        for _ in range(self.args.reps_n):
            for key, argv, cwd, before in runs:
                metric = self.metric(key)
                if metric.error:
                    continue
                before()
                outcome = self.runner.once(argv, cwd)
                if outcome.code != 0 or "Traceback (most recent call last)" in outcome.stderr:
                    tail = outcome.stderr.strip().splitlines()[-3:]
                    metric.error = f"`{' '.join(argv[-4:])}` exited {outcome.code}, expected 0: " + " | ".join(tail)
                    continue
                metric.samples.append(round(outcome.seconds, 4))
                metric.value = round(median(metric.samples), 4)

    def files_per_model(self, root: Path, key: str, n: int, target: int | None = None) -> None:
        """The most files one model's unit owns: those its manifest lists (its folder, and in the monorepo layout
        its root callers; seeded files too) plus the manifest itself."""
        metric = self.metric(key, "files")
        counts: dict[str, tuple[int, int, int]] = {}  # model -> (files, seeded, outside its folder)
        for path in sorted((root / "generated").glob("*/.mlops-gen/manifest.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                files, model = data["files"], str(data["model"])
                # monorepo manifests list paths from the repository root, per-model ones from the model folder
                folder = path.parent.parent.relative_to(root).as_posix() + "/" if data.get("layout") == "monorepo" \
                    else ""
            except (OSError, ValueError, KeyError, TypeError) as exc:
                metric.error = f"{path}: unreadable manifest: {exc}"
                return
            if model == "_shared":
                metric.note = f"shared unit (once): {len(files) + 1} files; "
                continue
            seeded = sum(1 for entry in files.values() if entry.get("mode") == "seeded")
            outside = sum(1 for name in files if not name.startswith(folder))
            counts[model] = (len(files) + 1, seeded, outside)
        if len(counts) != n:
            metric.error = f"{len(counts)} model manifests under {root / 'generated'}, expected {n}"
            return
        model, (most, seeded, outside) = max(counts.items(), key=lambda item: (item[1][0], item[0]))
        metric.value = most
        metric.note += (f"largest unit {model}: {most} = {most - 1 - seeded} owned + {seeded} seeded + its "
                        f"manifest" + (f", {outside} of them root callers" if outside else "")
                        + f"; smallest {min(c[0] for c in counts.values())}")
        if target is not None:
            metric.target, metric.ok = f"<= {target} files", most <= target

    def floor(self) -> None:
        root = self.work / "mono"
        metric = self.metric("floor_N")
        metric.note = "in-process: bare pre-built jinja2 Environment render + header + write, one core"
        try:
            jobs = floor.prepare(root, ["specs"])
        except Exception as exc:  # the project's internals moved: report, keep benchmarking
            metric.error = f"cannot plan specs in-process: {type(exc).__name__}: {exc}"
            return
        self.jobs = jobs
        out = self.work / "floor-out"
        samples = []
        for _ in range(self.args.reps_n):  # no warm-up run: generate N just read the same templates and specs
            shutil.rmtree(out, ignore_errors=True)
            settle()
            try:
                seconds = floor.render(jobs, out)
            except Exception as exc:  # a template the plan names is missing or broken
                metric.error = f"floor render failed: {type(exc).__name__}: {exc}"
                return
            samples.append(round(seconds, 4))
        metric.samples, metric.value = samples, round(median(samples), 4)
        metric.note += f"; {len(jobs)} files"
        self.fidelity["floor_vs_generate"] = compare_trees(self.work / "mono" / "generated", out)

    def copier(self) -> None:
        keys = ("copier_cli_N", "copier_api_N")
        copier = copier_alt.copier_executable()
        jobs = getattr(self, "jobs", None)
        if copier is None:  # an optional comparison, not a dependency of mlops-gen
            for key in keys:
                self.metric(key).note = "skipped: copier not installed"
            return
        if jobs is None or self.metric("floor_N").error:
            for key in keys:
                self.metric(key).error = "floor failed: nothing to compare"
            return
        work = self.work / "copier"
        shutil.rmtree(work, ignore_errors=True)
        from mlops_gen.templates_dir import builtin_templates

        template, ext, runs = copier_alt.build(work, jobs, builtin_templates())
        count = min(self.args.copier_n or len(runs), len(runs))
        runs, scale = runs[:count], len(runs) / count
        self.fidelity["copier_version"] = subprocess.run([copier, "--version"], capture_output=True, text=True,
                                                         check=False).stdout.strip()

        def cli(out: Path) -> float:
            return copier_alt.run_cli(copier, template, ext, runs, out)

        def api(out: Path) -> float:
            return copier_alt.run_api(template, ext, runs, out, work)

        notes = {"copier_cli_N": "one `copier copy --defaults --trust --data-file` process per model",
                 "copier_api_N": "copier.run_copy for every model in one Python process"}
        for key, render in (("copier_cli_N", cli), ("copier_api_N", api)):
            metric, out = self.metric(key), work / f"out-{key}"
            metric.note = notes[key]
            if scale != 1:
                metric.note += f"; measured on {count} of {self.args.n} models, time scaled x{scale:g}"
            samples = []
            try:
                for _ in range(self.args.copier_reps):
                    shutil.rmtree(out, ignore_errors=True)
                    settle()
                    samples.append(round(render(out) * scale, 4))
            except subprocess.CalledProcessError as exc:
                tail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
                metric.error = f"copier exited {exc.returncode}: {' '.join(tail)}"
                continue
            metric.samples, metric.value = samples, round(median(samples), 4)
            self.fidelity[f"{key}_vs_floor"] = compare_trees(self.work / "floor-out", out,
                                                             only=[model for model, _ in runs])

ORDER = (
    "python_startup", "version", "help", "heavy_imports_version", "heavy_imports_help", "validate_1",
    "generate_1", "check_1", "validate_N", "floor_N", "generate_N", "generate_N_jobs1", "generate_N_noop",
    "check_N", "check_N_cold", "check_N_one_changed", "peak_rss_generate_N", "files_per_model",
    "mono_validate_N", "generate_N_paired", "mono_generate_N", "mono_generate_N_noop", "mono_check_N",
    "mono_check_N_cold", "mono_files_per_model", "copier_cli_N", "copier_api_N",
)


def table(metrics: dict[str, Metric]) -> str:
    """The results as a Markdown table, readable in a terminal too."""
    rows = [("metric", "value", "target", "ratio", "result")]
    for key in [k for k in ORDER if k in metrics] + [k for k in metrics if k not in ORDER]:
        m = metrics[key]
        if m.error:
            value, result = "-", "ERROR"
        elif m.value is None:
            value, result = "-", "skipped"
        else:
            value = f"{m.value:.3f} {m.unit}" if isinstance(m.value, float) else f"{m.value} {m.unit}"
            result = {True: "pass", False: "FAIL", None: ""}[m.ok]
        rows.append((key, value, m.target, "" if m.ratio is None else f"{m.ratio:.3f}", result))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def markdown(result: dict[str, Any], metrics: dict[str, Metric]) -> str:
    """Machine, configuration, table, notes and fidelity: the section docs/benchmarks.md records."""
    info, config = result["machine"], result["config"]
    lines = [f"Run {info['date_utc']} UTC of {config['label']}: N={config['n']}, medians of {config['reps']} runs "
             f"({config['reps_n']} for the N-spec generate/check runs and the floor, {config['copier_reps']} for "
             f"copier on {config['copier_n']} models), via `{config['invocation']}`, in {config['workdir']}, "
             f"{config['bench_seconds']} s in all.",
             "", f"- Machine: {info['nproc']} cores ({info['cpu_model']}), {info['memory_total']} memory",
             f"- {info['platform']}, {info['python_implementation']} {info['python']}",
             f"- Load average (1/5/15 min) before the run: {info['loadavg_before']}; after: {info['loadavg']}",
             "- Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()), "", table(metrics), ""]
    for key in [k for k in ORDER if k in metrics] + [k for k in metrics if k not in ORDER]:
        m = metrics[key]
        samples = f"runs: {', '.join(f'{v:g}' for v in m.samples)} {m.unit}" if len(m.samples) > 1 else ""
        text = "; ".join(filter(None, [samples, m.note, m.error and f"error: {m.error}"]))
        if text:
            lines.append(f"- `{key}`: {text}")
    for name, report in result["fidelity"].items():
        if isinstance(report, dict):
            differing = report["differing_count"] + report["missing_count"] + report["extra_count"]
            text = f"{report['identical']} of {report['files']} files byte-identical"
            text += f"; {differing} differ, are missing or extra: {report['differing'] + report['missing']}" \
                if differing else ""
            lines.append(f"- fidelity `{name}`: {text}")
        else:
            lines.append(f"- `{name}`: {report}")
    return "\n".join(lines) + "\n"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="specs in the synthetic monorepo [500]")
    parser.add_argument("--reps", type=int, default=5, help="measured repetitions per figure [5]")
    parser.add_argument("--reps-n", type=int, default=0,
                        help="repetitions of the N-spec generate/check runs and the floor [--reps]")
    parser.add_argument("--copier-reps", type=int, default=1, help="repetitions of the copier runs [1]")
    parser.add_argument("--copier-n", type=int, default=0,
                        help="render only the first K models with copier and scale its time to N [all N]")
    parser.add_argument("--quick", action="store_true", help="smoke mode: N=3, one repetition")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--markdown", type=Path, help="write machine, table and notes as Markdown here")
    parser.add_argument("--invoke", choices=("script", "module"), default="script",
                        help="run the console script beside this interpreter, or python -m mlops_gen [script]")
    parser.add_argument("--no-copier", action="store_true", help="skip the copier comparison")
    parser.add_argument("--workdir", type=Path, help="make the temporary directory in DIR, e.g. a tmpfs [system temp]")
    parser.add_argument("--keep", type=Path, help="build the repos in this directory and keep them")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--label", default="", help="what is measured, e.g. the commit, recorded in the results")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.reps, args.reps_n, args.copier_reps = 3, 1, 1, 1
    args.reps_n = args.reps_n or args.reps
    if min(args.n, args.reps, args.reps_n, args.copier_reps) < 1:
        parser.error("--n, --reps, --reps-n and --copier-reps must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix="bench-", dir=args.keep)).resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="mlops-gen-bench-", dir=args.workdir)).resolve()
    bench = Bench(args, work)
    load_before = first_line("/proc/loadavg")  # other work on the machine skews every figure: record it
    try:
        started = time.perf_counter()
        bench.cold_start()
        bench.one_spec()
        bench.many_specs()
        bench.floor()
        bench.monorepo()
        if not args.no_copier:
            bench.copier()
        bench.ratios()
        elapsed = time.perf_counter() - started
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "machine": {**machine(), "loadavg_before": load_before},
        "config": {"n": args.n, "reps": args.reps, "reps_n": args.reps_n, "copier_reps": args.copier_reps,
                   "copier_n": args.copier_n or args.n, "quick": args.quick, "label": args.label or revision(),
                   "workdir": f"{work.parent} ({filesystem(work.parent)})",
                   "invocation": bench.invocation, "statistic": "median", "bench_seconds": round(elapsed, 1)},
        "metrics": {key: asdict(metric) for key, metric in bench.metrics.items()},
        "fidelity": bench.fidelity,
    }
    print(table(bench.metrics))
    print(f"\n{result['config']['label']}: N={args.n} reps={args.reps}/{args.reps_n} via {bench.invocation}; "
          f"{elapsed:.0f} s in all")
    for name, report in bench.fidelity.items():
        print(f"fidelity {name}: {report}")
    for metric in bench.metrics.values():
        if metric.error:
            print(f"error {metric.key}: {metric.error}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(markdown(result, bench.metrics), encoding="utf-8")
    failed = any(m.error for m in bench.metrics.values())
    missed = any(m.ok is False for m in bench.metrics.values())
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
