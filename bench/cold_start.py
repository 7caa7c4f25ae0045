"""Cold start, measured in fresh processes: `import function_app` and a first response, against importing
every runtime SDK in requirements.txt.

Each sample is a new Python process that times itself with `time.perf_counter` and prints one JSON line.
The kinds of sample run interleaved (the order rotates every round), so all of them see the same machine
load; each figure is the median over the rounds. The ratio `import function_app / SDK imports` says how
much of the SDKs' import cost the app pays before its first request (goal: at most 0.25). The bench
prints; it does not gate: the exit code is 0 unless a sample crashes or answers with an unexpected status.

    python -m bench.cold_start [--runs 5] [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

DESCRIPTION = "Cold start in fresh processes: import function_app and a first response vs the SDK imports."
ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ROOT / "requirements.txt"

GOAL_RATIO = 0.25

# Modules the app must not import at cold start: each is a prefix (the module and its submodules).
HEAVY_MODULES = (
    "azure.identity",
    "azure.communication",
    "azure.monitor",
    "opentelemetry",
    "aiohttp",
    "jwt",
    "cryptography",
    "openai",
    "av",
)

# Distributions that install into a namespace package (`azure`): importing the namespace imports nothing,
# so name the distribution's own module. Checked against what is derived from the distribution's files.
NAMESPACE_MODULES: Mapping[str, tuple[str, ...]] = {
    "azure-functions": ("azure.functions",),
    "azure-identity": ("azure.identity",),
    "azure-communication-identity": ("azure.communication.identity",),
    "azure-communication-rooms": ("azure.communication.rooms",),
    "azure-monitor-opentelemetry": ("azure.monitor.opentelemetry",),
}

# The kinds of sample: the SDK imports, and the app answering a first request to one of its functions.
SDK = "sdk"
FIRST_REQUESTS: Mapping[str, tuple[str, str, dict[str, str]]] = {
    # kind: (function name, route, headers)
    "health": ("health", "health", {}),
    "meetings": ("list_meetings", "meetings", {"authorization": "Bearer dev:alice"}),
}
KINDS = (SDK, *FIRST_REQUESTS)

# What runs in each fresh process: `python -c CHILD kind root [args...]`. Only `sys` and `time` are imported
# before the clock starts, so the app and the SDKs pay for every module they pull in (as in a new worker).
CHILD = r"""
import sys
import time

kind, root, args = sys.argv[1], sys.argv[2], sys.argv[3:]
sys.path.insert(0, root)
heavy = args[0].split(",")


def heavy_roots():
    return sorted({p for p in heavy for m in sys.modules if m == p or m.startswith(p + ".")})


out = {"kind": kind}
if kind == "sdk":
    import importlib

    steps = {}
    start = time.perf_counter()
    for name in args[1:]:
        begun = time.perf_counter()
        importlib.import_module(name)
        steps[name] = time.perf_counter() - begun
    out["import_s"] = time.perf_counter() - start
    out["steps_s"] = steps
else:
    function_name, route, headers = args[1], args[2], dict(h.split(":", 1) for h in args[3:])
    start = time.perf_counter()
    import function_app

    imported = time.perf_counter()
    out["heavy_after_import"] = heavy_roots()
    index_start = time.perf_counter()
    functions = {f.get_function_name(): f.get_user_function() for f in function_app.app.get_functions()}
    indexed = time.perf_counter()

    import asyncio

    import azure.functions as func

    class Context:
        # The worker's context: the app reads only the invocation id.
        invocation_id = "00000000-0000-4000-8000-00000000c01d"

    loop = asyncio.new_event_loop()  # the worker's loop exists before the first request
    begun = time.perf_counter()
    request = func.HttpRequest(
        method="GET",
        url="http://localhost:7071/api/" + route,
        headers=headers,
        params={},
        route_params={},
        body=b"",
    )
    response = loop.run_until_complete(functions[function_name](request, Context()))
    answered = time.perf_counter()
    out["heavy_after_request"] = heavy_roots()
    out.update(
        import_s=imported - start,
        index_s=indexed - index_start,
        request_s=answered - begun,
        # Only the timed steps: not the bench's own bookkeeping between them.
        first_response_s=(imported - start) + (indexed - index_start) + (answered - begun),
        status=response.status_code,
        body=response.get_body()[:300].decode("utf-8", "replace"),
    )
    loop.close()

import json

print(json.dumps(out), flush=True)
"""


class BenchError(RuntimeError):
    """A sample crashed or answered wrongly: its numbers would mean nothing."""


# ---------------------------------------------------------------------------------------------- the SDKs


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(text: str) -> list[str]:
    """The distribution names in a requirements file (pins, extras and markers dropped; options skipped)."""
    names = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if found:
            names.append(found.group(0))
    return names


def derived_modules(distribution: str) -> tuple[str, ...]:
    """The distribution's importable modules, from its installed files: the shallowest packages (those with
    an `__init__.py`; a namespace has none, so the search goes one level down) and top-level modules.
    Falls back to top_level.txt, then to the distribution's name."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return (_normalize(distribution).replace("-", "_"),)
    packages = []
    for file in dist.files or ():
        parts = file.parts
        if ".." in parts or any(p.endswith((".dist-info", ".egg-info", "__pycache__")) for p in parts):
            continue
        if parts[-1] == "__init__.py" and len(parts) > 1:
            packages.append(parts[:-1])
        elif len(parts) == 1 and parts[0].endswith(".py"):
            packages.append((parts[0][:-3],))
    public = [p for p in packages if not any(part.startswith("_") for part in p)]
    if public:
        depth = min(len(p) for p in public)
        return tuple(sorted({".".join(p) for p in public if len(p) == depth}))
    top_level = (dist.read_text("top_level.txt") or "").split()
    if top_level:
        return tuple(sorted(t for t in top_level if not t.startswith("_")))
    return (_normalize(distribution).replace("-", "_"),)


@dataclass(frozen=True)
class SdkModules:
    by_distribution: dict[str, tuple[str, ...]]
    notes: list[str]

    @property
    def modules(self) -> list[str]:
        return [m for mods in self.by_distribution.values() for m in mods]


def sdk_modules(requirements: Path = REQUIREMENTS) -> SdkModules:
    by_distribution: dict[str, tuple[str, ...]] = {}
    notes = []
    for name in requirement_names(requirements.read_text()):
        derived = derived_modules(name)
        override = NAMESPACE_MODULES.get(_normalize(name))
        if override is not None and set(override) != set(derived):
            notes.append(f"{name}: using {', '.join(override)} (its files suggest {', '.join(derived)})")
        by_distribution[name] = override or derived
    return SdkModules(by_distribution, notes)


# ------------------------------------------------------------------------------------------- the samples


def run_child(kind: str, sdk: Sequence[str], data_dir: Path) -> dict[str, Any]:
    args = [",".join(HEAVY_MODULES)]
    if kind == SDK:
        args += list(sdk)
    else:
        function_name, route, headers = FIRST_REQUESTS[kind]
        args += [function_name, route, *(f"{k}:{v}" for k, v in headers.items())]
    env = {**os.environ, "DATA_DIR": str(data_dir), "AUTH_MODE": "dev"}
    # Local defaults: not "in Azure", and no telemetry exporter (which would import Azure Monitor).
    for name in ("WEBSITE_INSTANCE_ID", "APPLICATIONINSIGHTS_CONNECTION_STRING"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(ROOT), *args],
        cwd=data_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise BenchError(f"{kind} sample exited with {done.returncode}:\n{done.stderr}{done.stdout}")
    result: dict[str, Any] = json.loads(lines[-1])
    if kind != SDK and result["status"] != 200:
        raise BenchError(f"{kind} sample answered {result['status']}, expected 200: {result['body']}")
    return result


def collect(runs: int, warmup: int, sdk: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    samples: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    with tempfile.TemporaryDirectory(prefix="bench-cold-start-") as tmp:
        for round_no in range(warmup + runs):
            shift = round_no % len(KINDS)
            for kind in KINDS[shift:] + KINDS[:shift]:
                data_dir = Path(tmp, f"{round_no}-{kind}")  # empty, as on a new instance
                data_dir.mkdir()
                result = run_child(kind, sdk, data_dir)
                if round_no >= warmup:
                    samples[kind].append(result)
    return samples


# -------------------------------------------------------------------------------------------- the report


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def _spread(values: Sequence[float]) -> str:
    return f"(min {min(values) * 1000:.1f}, max {max(values) * 1000:.1f}, n={len(values)})"


def _listing(names: Iterable[str]) -> str:
    names = sorted(set(names))
    return ", ".join(names) if names else "none"


def report(samples: Mapping[str, list[dict[str, Any]]], sdk: SdkModules, runs: int) -> None:
    app_samples = [s for kind in FIRST_REQUESTS for s in samples[kind]]
    app_import = [s["import_s"] for s in app_samples]
    index = [s["index_s"] for s in app_samples]
    sdk_import = [s["import_s"] for s in samples[SDK]]
    median_app, median_sdk = statistics.median(app_import), statistics.median(sdk_import)
    ratio = median_app / median_sdk

    print(
        f"Cold start: a fresh process per sample, median of {runs} rounds, kinds interleaved "
        f"(Python {platform.python_version()}, {os.cpu_count()} CPUs)"
    )
    print()
    print(f"  import function_app        {_ms(median_app)}  {_spread(app_import)}")
    print(f"  index its functions        {_ms(statistics.median(index))}")
    for kind, (function_name, route, _) in FIRST_REQUESTS.items():
        total = [s["first_response_s"] for s in samples[kind]]
        request = statistics.median(s["request_s"] for s in samples[kind])
        label = f"first GET /api/{route}"
        print(
            f"  {label:<26} {_ms(statistics.median(total))}  {_spread(total)}  process start to response;"
            f" {request * 1000:.1f} ms of it in {function_name}()"
        )
    print()
    print(f"  import runtime SDKs        {_ms(median_sdk)}  {_spread(sdk_import)}")
    for distribution, modules in sdk.by_distribution.items():
        for module in modules:
            step = statistics.median(s["steps_s"][module] for s in samples[SDK])
            print(f"      {distribution:<30} {module:<30} {_ms(step)}")
    print("      (each step counts only what the steps above it had not imported yet)")
    for note in sdk.notes:
        print(f"      note: {note}")
    print()
    verdict = "PASS" if ratio <= GOAL_RATIO else "FAIL"
    print(f"  function_app import / SDK imports = {ratio:.3f}   goal: at most {GOAL_RATIO}   {verdict}")
    print()

    heavy_after_import = {m for s in app_samples for m in s["heavy_after_import"]}
    verdict = "PASS" if not heavy_after_import else "FAIL"
    print(
        f"  heavy modules after import function_app: {_listing(heavy_after_import)}   goal: none   {verdict}"
    )
    print(f"      (watched: {', '.join(HEAVY_MODULES)})")
    for kind, (_, route, _) in FIRST_REQUESTS.items():
        after = {m for s in samples[kind] for m in s["heavy_after_request"]}
        print(f"      after the first GET /api/{route}: {_listing(after)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=DESCRIPTION)
    parser.add_argument("--runs", type=int, default=5, help="samples of each kind (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="discarded rounds first (default 1)")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be at least 1 and --warmup at least 0")
    sdk = sdk_modules()
    try:
        samples = collect(args.runs, args.warmup, sdk.modules)
    except (BenchError, subprocess.TimeoutExpired) as error:
        print(f"cold start bench failed: {error}", file=sys.stderr)
        return 1
    report(samples, sdk, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
