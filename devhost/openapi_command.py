"""`python -m devhost openapi [--out FILE]`: the app's OpenAPI document, as `GET /api/openapi.json` serves it.

The web client's TypeScript API client is generated from this file (`web/openapi.json`), so `make test`
writes it afresh and fails when the committed copy differs: the client cannot drift from the API.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from devhost.commands import sub_command

if TYPE_CHECKING:
    from devhost.commands import SubCommands


def add_parser(commands: SubCommands) -> None:
    parser = sub_command(
        commands, "openapi", "print the app's OpenAPI document (or write it to --out)", __doc__
    )
    parser.add_argument("--out", type=Path, default=None, help="default: standard output")
    parser.set_defaults(handler=openapi_command)


def render() -> str:
    # Importing the app registers every operation; nothing is served or built.
    import function_app  # noqa: F401
    from shared import __version__
    from shared.http import OPERATIONS
    from shared.openapi import build_openapi

    # The version is left out: it changes with every release and would make the generated client differ.
    document = build_openapi(OPERATIONS, __version__)
    document["info"]["version"] = "current"
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def openapi_command(args: argparse.Namespace) -> int:
    text = render()
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0
