"""Find every `python <script>.py ...` call in a rendered model folder's pipeline files.

Shared by the parity test (both platforms call the same scripts with the same gate arguments) and the script
contract test (each called script exists and its parser accepts the call). Pipelines are parsed as YAML and every
string value is scanned, so the extraction does not depend on which step keys (`run:`, `script:`, `bash:`,
`inputs.inlineScript`, ...) a template happens to use.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

AZURE = "azure_devops"
GITHUB = "github_actions"

# Tokens that end a simple command: what follows is another command or a redirection, not an argument.
_COMMAND_END = {";", "&&", "||", "|", "&", ")", "then", "do", "fi", "done"}
_REDIRECT = re.compile(r"^\d*(>>?|<)")
_PYTHON = {"python", "python3", "python3.10", "python3.11", "python3.12", "python3.13"}
# Pipeline variables a script receives at run time: $(name), ${{ expr }}, ${NAME}, $NAME.
PIPELINE_VARIABLE = re.compile(r"\$\{\{.*?\}\}|\$\([A-Za-z0-9_.]+\)|\$\{[A-Za-z0-9_]+\}|\$[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Call:
    file: str  # path of the pipeline file, relative to the model folder
    script: str  # the .py path as written after `python`
    argv: tuple[str, ...]  # the arguments after the script, shell-unquoted, pipeline variables left as written
    platform: str  # AZURE or GITHUB

    def pairs(self) -> list[tuple[str, str | None]]:
        """(flag, value) pairs in order; a flag followed by another flag (a switch) gets None."""
        out: list[tuple[str, str | None]] = []
        index = 0
        while index < len(self.argv):
            token = self.argv[index]
            if token.startswith("--") and "=" in token:
                flag, _, value = token.partition("=")
                out.append((flag, value))
                index += 1
            elif token.startswith("--"):
                has_value = index + 1 < len(self.argv) and not self.argv[index + 1].startswith("--")
                out.append((token, self.argv[index + 1] if has_value else None))
                index += 2 if has_value else 1
            else:
                out.append(("", token))  # a positional: scripts declare none, the contract test reports it
                index += 1
        return out


def platform_of(relative: str) -> str | None:
    """Which platform a YAML file of the model folder belongs to, or None when it is no pipeline file."""
    parts = Path(relative).parts
    if Path(relative).suffix not in (".yml", ".yaml"):
        return None
    if parts[:2] == (".github", "workflows"):
        return GITHUB
    if any(part.startswith("azure-pipelines") for part in parts):
        return AZURE
    return None


def pipeline_files(tree_root: Path) -> list[tuple[str, str]]:
    """(relative path, platform) of every pipeline file under the model folder, sorted."""
    found = []
    for path in sorted(tree_root.rglob("*")):
        if path.is_file():
            relative = path.relative_to(tree_root).as_posix()
            platform = platform_of(relative)
            if platform:
                found.append((relative, platform))
    return found


def load_yaml(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc is not None]


def strings(node: Any) -> Iterator[str]:
    """Every string value (not key) in a parsed YAML document, depth first."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def logical_lines(script: str) -> list[str]:
    """Shell lines with backslash-newline continuations joined."""
    return re.sub(r"\\[ \t]*\r?\n", " ", script).splitlines()


def _split(line: str) -> list[str]:
    # `${{ x }}` contains spaces; shlex would cut it into words, so protect it first.
    protected: list[str] = []

    def hold(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return f"\0{len(protected) - 1}\0"

    line = re.sub(r"\$\{\{.*?\}\}", hold, line)
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError:  # an unbalanced quote: not a line we can read as a command
        return []
    return [re.sub(r"\0(\d+)\0", lambda m: protected[int(m.group(1))], token) for token in tokens]


def calls_in_text(text: str, file: str, platform: str) -> list[Call]:
    calls = []
    for line in logical_lines(text):
        tokens = _split(line)
        for index, token in enumerate(tokens[:-1]):
            script = tokens[index + 1]
            if token.rsplit("/", 1)[-1] not in _PYTHON or not script.endswith(".py"):
                continue
            argv = []
            for arg in tokens[index + 2:]:
                if arg in _COMMAND_END or _REDIRECT.match(arg):
                    break
                stripped = arg.rstrip(";")
                argv.append(stripped)
                if stripped != arg:
                    break
            calls.append(Call(file, script, tuple(argv), platform))
    return calls


def iter_calls(tree_root: Path) -> list[Call]:
    """Every `python <script>.py ...` call in the Azure DevOps and GitHub Actions files under `tree_root`."""
    calls = []
    for relative, platform in pipeline_files(tree_root):
        for document in load_yaml(tree_root / relative):
            for text in strings(document):
                if "python" in text:
                    calls.extend(calls_in_text(text, relative, platform))
    return calls


def placeholder_argv(argv: tuple[str, ...], placeholder: str = "PLACEHOLDER") -> list[str]:
    """`argv` with every pipeline variable replaced by `placeholder`, as a parser would receive a value."""
    return [PIPELINE_VARIABLE.sub(placeholder, arg) for arg in argv]


def environment_names(tree_root: Path) -> dict[str, set[str]]:
    """Deployment environment names per platform: `environment:` of Azure deployment jobs and GitHub jobs.

    Only job-level keys count: azure/login, for one, has an unrelated `environment` input.
    """
    names: dict[str, set[str]] = {AZURE: set(), GITHUB: set()}
    for relative, platform in pipeline_files(tree_root):
        for document in load_yaml(tree_root / relative):
            if platform == GITHUB:
                jobs = document.get("jobs", {}) if isinstance(document, dict) else {}
                values = [job.get("environment") for job in jobs.values() if isinstance(job, dict)]
            else:
                values = [job.get("environment") for job in mappings(document) if "deployment" in job]
            for value in values:
                name = value.get("name") if isinstance(value, dict) else value
                if isinstance(name, str):
                    names[platform].add(name.split(".", 1)[0])  # Azure 'env.resource' names a resource
    return names


def mappings(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a parsed YAML document, outermost first (jobs, steps, tasks, their inputs)."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from mappings(value)
    elif isinstance(node, list):
        for item in node:
            yield from mappings(item)


def render_to(spec_paths: list[Path], out: Path) -> dict[str, Path]:
    """Render specs in-process into out/<model>/ (plain writes, no manifest); returns {model name: folder}."""
    from mlops_gen.commands.generate import render_all
    from mlops_gen.render.plan import TARGETS

    folders = {}
    for spec_file, files in render_all([str(p) for p in spec_paths], TARGETS):
        folder = out / spec_file.spec.model.name
        for relative, rendered in files.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(rendered.data)
            if rendered.executable:
                target.chmod(0o755)
        folders[spec_file.spec.model.name] = folder
    return folders


# A command line of a step: a stage script, the endpoint tests, or your extension script (not pip, not `python -c`).
COMMAND = re.compile(r"^\s*(python -m pytest \S+|python (?!-)\S+|bash \S+)", re.MULTILINE)
# Flags that say what a release step acts on: compared value for value with the model.
WHAT = ("--traffic-percentage", "--deployment-name", "--deployment", "--candidate-deployment", "--alias")


def hook_commands(hook: dict[str, Any], increment: str | None = None) -> list[tuple[str, dict[str, str]]]:
    """Each command of an Azure DevOps hook (or a GitHub job: `run:` steps) in order, with the flags that say what
    it acts on ($(strategy.increment) as Azure expands it for one increment)."""
    out = []
    for step in hook["steps"]:
        body = step.get("inputs", {}).get("inlineScript", "") or step.get("bash", "") or step.get("run", "")
        if increment is not None:
            body = body.replace("'$(strategy.increment)'", increment).replace("$(strategy.increment)", increment)
        matches = list(COMMAND.finditer(body))
        for index, match in enumerate(matches):
            rest = body[match.end():matches[index + 1].start() if index + 1 < len(matches) else len(body)]
            flags = {flag: value for flag, value in re.findall(r"(--[a-z-]+)[ =]'?([^\s'\\]+)", rest)
                     if flag in WHAT}
            out.append((match.group(1), flags))
    return out


def azure_scripts(document: Any) -> list[str]:
    """Every bash body of an Azure DevOps pipeline: `bash:` steps and AzureCLI inline scripts."""
    bodies = []
    for node in mappings(document):
        if isinstance(node.get("bash"), str):
            bodies.append(node["bash"])
        inputs = node.get("inputs")
        if isinstance(inputs, dict) and isinstance(inputs.get("inlineScript"), str):
            bodies.append(inputs["inlineScript"])
    return bodies
