"""JUnit XML reports, the format both Azure DevOps (PublishTestResults) and GitHub test reporters read."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # nosec B405
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Case:
    name: str
    failure: str | None = None  # None: passed
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failure is None


def write_junit(path: str | Path, suite: str, cases: list[Case]) -> Path:
    failures = sum(1 for case in cases if case.failure is not None)
    skipped = sum(1 for case in cases if case.skipped is not None and case.failure is None)
    total = sum(case.seconds for case in cases)
    root = ET.Element("testsuites", name=suite, tests=str(len(cases)), failures=str(failures),
                      skipped=str(skipped), errors="0", time=f"{total:.3f}")
    node = ET.SubElement(root, "testsuite", name=suite, tests=str(len(cases)), failures=str(failures),
                         skipped=str(skipped), errors="0", time=f"{total:.3f}")
    for case in cases:
        element = ET.SubElement(node, "testcase", name=case.name, classname=suite, time=f"{case.seconds:.3f}")
        if case.failure is not None:
            failure = ET.SubElement(element, "failure", message=case.failure.splitlines()[0] if case.failure
                                    else "failed", type="AssertionError")
            failure.text = case.failure
        elif case.skipped is not None:
            ET.SubElement(element, "skipped", message=case.skipped)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)
    return target


def summarize(suite: str, cases: list[Case]) -> int:
    """Print one line per case and return the number of failures."""
    for case in cases:
        status = "PASS" if case.failure is None else "FAIL"
        if case.failure is None and case.skipped is not None:
            status = "SKIP"
        detail = case.failure or case.skipped or ""
        print(f"[{status}] {suite}: {case.name}" + (f": {detail}" if detail else ""))
    return sum(1 for case in cases if case.failure is not None)
