"""What devhost's command-line tools share: their exit statuses and how each registers its sub-command."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

# One meaning per status across `process`, `summarize` and `deliver-recording`, for scripts that call them.
EXIT_BAD_INPUT = 2  # the file, the ids or the settings given cannot work
EXIT_PROVIDER_REFUSED = 3  # the provider (or the running devhost) refused it: trying again will not help
EXIT_PROVIDER_UNAVAILABLE = 4  # the provider is unavailable: run again to resume

DEFAULT_PORT = 7071  # devhost serve's and make run's, when PORT is not set

if TYPE_CHECKING:  # subscriptable for type checkers only
    SubCommands = argparse._SubParsersAction[argparse.ArgumentParser]


def sub_command(
    commands: SubCommands, name: str, help_text: str, description: str | None
) -> argparse.ArgumentParser:
    """A sub-command whose description is its module's docstring, kept as written."""
    return commands.add_parser(
        name, help=help_text, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
