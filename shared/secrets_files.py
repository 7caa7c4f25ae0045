"""Random keys kept under DATA_DIR for the embedded backends (created once, readable by the owner only)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def local_key(data_dir: Path, name: str) -> bytes:
    path = data_dir / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        # O_EXCL: two processes starting together agree on whichever key was written first.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
