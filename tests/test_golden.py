"""generated/ is the golden record: a fresh render of every spec in specs/ equals it byte for byte.

A template change shows up in review as a diff of generated/; this test fails when someone changed templates or
specs without regenerating. The manifest directory that `generate` keeps in each model folder (.mlops-gen/) is
not rendered output and is ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops_gen.commands.generate import render_all
from mlops_gen.render.plan import TARGETS
from mlops_gen.render.render import RenderedFile
from tests.conftest import ROOT

GOLDEN = ROOT / "generated"
MANIFEST_DIR = ".mlops-gen"
FIX = "run `mlops-gen generate specs -o generated` from the repository root and commit generated/"


def _on_disk(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] != MANIFEST_DIR}


@pytest.fixture(scope="module")
def fresh() -> dict[str, dict[str, RenderedFile]]:
    # generated/ is written from the repository root, so headers name specs/<file>; render the same way.
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        return {spec_file.spec.model.name: files for spec_file, files in render_all(["specs"], TARGETS)}


def test_every_model_has_a_golden_folder_and_no_other(fresh: dict[str, dict[str, RenderedFile]]) -> None:
    present = {p.name for p in GOLDEN.iterdir() if p.is_dir()} if GOLDEN.is_dir() else set()
    missing, extra = sorted(set(fresh) - present), sorted(present - set(fresh))
    assert not missing and not extra, (f"generated/ is stale: missing model folders {missing}, folders of no spec "
                                       f"{extra}; {FIX}")


def test_generated_matches_a_fresh_render(fresh: dict[str, dict[str, RenderedFile]]) -> None:
    stale, missing, extra, modes = [], [], [], []
    for model, files in fresh.items():
        folder = GOLDEN / model
        disk = _on_disk(folder) if folder.is_dir() else {}
        for relative, rendered in files.items():
            path = disk.get(relative)
            if path is None:
                missing.append(f"{model}/{relative}")
            elif path.read_bytes() != rendered.data:
                stale.append(f"{model}/{relative}")
            elif bool(path.stat().st_mode & 0o111) != rendered.executable:
                modes.append(f"{model}/{relative}")
        extra.extend(f"{model}/{relative}" for relative in sorted(set(disk) - set(files)))
    report = [f"{label}: {', '.join(names)}" for label, names in
              (("stale", stale), ("missing", missing), ("not rendered any more", extra),
               ("wrong executable bit", modes)) if names]
    assert not report, "generated/ differs from a fresh render:\n" + "\n".join(report) + f"\nFix: {FIX}"


def test_azure_devops_blue_green_is_in_the_golden_record(snapshot: Any) -> None:
    """No example spec releases blue-green on Azure DevOps: tests/specs/azure-bg.yaml's deployment pipeline is a
    golden snapshot (tests/__snapshots__/test_golden.ambr), reviewed like generated/ when it changes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        ((_, files),) = render_all(["tests/specs/azure-bg.yaml"], ("azure_devops",))
    assert files["azure-pipelines/deployment.yml"].data.decode("utf-8") == snapshot
