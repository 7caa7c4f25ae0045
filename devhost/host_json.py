"""The parts of host.json that devhost honours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEFAULT_ROUTE_PREFIX = "api"


def read_host_json(directory: Path) -> dict[str, Any]:
    """host.json of the app directory; an app without one runs on the host's defaults."""
    path = directory / "host.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8-sig"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return data


def route_prefix(host_json: dict[str, Any]) -> str:
    """`extensions.http.routePrefix`; an empty string is a real value (routes at the root)."""
    prefix = host_json.get("extensions", {}).get("http", {}).get("routePrefix")
    return DEFAULT_ROUTE_PREFIX if prefix is None else str(prefix).strip("/")
