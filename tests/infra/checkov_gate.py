"""`make infra-scan`: checkov on infra/ (Bicep, offline), and a verdict stricter than its exit status.

Run with the Python of checkov's own venv (`make` does; it needs only the standard library):

    .venv/checkov/bin/python tests/infra/checkov_gate.py .venv/checkov/bin/checkov infra

Fails when checkov fails a check, and also when it would pass for the wrong reasons: a Bicep file it
could not parse (it leaves those out and still exits 0), a check that crashed, a skip without a
reason, or a `checkov:skip` comment that suppresses nothing (checkov is run a second time with the skips
turned off: each skipped check must fail there). A stale skip would hide the next real finding.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

SKIP = re.compile(r"checkov:skip=([A-Z0-9_]+)")
MIN_REASON = 30


def run_checkov(checkov: str, directory: Path) -> tuple[dict[str, Any], str]:
    command = [checkov, "--directory", str(directory), "--framework", "bicep", "--skip-download"]
    command += ["--output", "json", "--compact"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if not done.stdout.strip():
        raise SystemExit(f"checkov printed no report (exit {done.returncode}):\n{done.stderr}")
    report = json.loads(done.stdout)
    # One framework gives one report object; several give a list.
    if isinstance(report, list):
        (report,) = [r for r in report if r.get("check_type") == "bicep"]
    return report, done.stderr


def skip_comments(directory: Path) -> Counter[tuple[str, str]]:
    """(file relative to `directory`, check id) for every skip comment, counted."""
    found: Counter[tuple[str, str]] = Counter()
    for path in sorted(directory.rglob("*.bicep")):
        for check in SKIP.findall(path.read_text(encoding="utf-8")):
            found[(str(path.relative_to(directory)), check)] += 1
    return found


def findings_without_skips(checkov: str, directory: Path) -> set[tuple[str, str, str]]:
    """(file, resource, check) that fail once every skip comment is disabled, in a copy of `directory`."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / directory.name
        shutil.copytree(directory, copy)
        for path in copy.rglob("*.bicep"):
            path.write_text(path.read_text(encoding="utf-8").replace("checkov:skip=", "checkov-skip-off="))
        report, _ = run_checkov(checkov, copy)
    return {
        (failed["file_path"].lstrip("/"), failed["resource"], failed["check_id"])
        for failed in report.get("results", {}).get("failed_checks", [])
    }


def verdict(
    report: dict[str, Any], stderr: str, directory: Path, unskipped: set[tuple[str, str, str]]
) -> list[str]:
    problems: list[str] = []
    summary = report.get("summary", {})
    results = report.get("results", {})
    if summary.get("parsing_errors"):
        problems.append(f"checkov could not parse: {results.get('parsing_errors')}")
    for failed in results.get("failed_checks", []):
        problems.append(
            f"FAILED {failed['check_id']} {failed['check_name']}: "
            f"{failed['file_path'].lstrip('/')}:{failed['file_line_range'][0]} {failed['resource']}"
        )
    for line in stderr.splitlines():
        if "[ERROR]" in line or "Traceback" in line:
            problems.append(f"checkov error: {line.strip()}")
    used: Counter[tuple[str, str]] = Counter()
    for skipped in results.get("skipped_checks", []):
        reason = (skipped.get("check_result", {}).get("suppress_comment") or "").strip()
        where = f"{skipped['file_path'].lstrip('/')} {skipped['resource']}"
        if len(reason) < MIN_REASON or reason == "No comment provided":
            problems.append(f"skip of {skipped['check_id']} without a reason: {where}")
        used[(skipped["file_path"].lstrip("/"), skipped["check_id"])] += 1
        if (skipped["file_path"].lstrip("/"), skipped["resource"], skipped["check_id"]) not in unskipped:
            problems.append(f"needless skip of {skipped['check_id']}: it passes without it ({where})")
    for (file, check), count in skip_comments(directory).items():
        if count > used[(file, check)]:
            problems.append(f"stale skip: {check} in {file} matches no check checkov runs there")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    checkov, directory = argv[0], Path(argv[1])
    report, stderr = run_checkov(checkov, directory)
    problems = verdict(report, stderr, directory, findings_without_skips(checkov, directory))
    summary = report.get("summary", {})
    print(
        f"checkov {summary.get('checkov_version')} on {directory}/ (bicep): {summary.get('passed')} passed, "
        f"{summary.get('failed')} failed, {summary.get('skipped')} skipped (each with its reason beside "
        f"the resource), {summary.get('resource_count')} resources"
    )
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
