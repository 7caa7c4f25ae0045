"""The `Summarizer` port offline: `LocalSummarizer` (`local:extractive`), meeting notes with no model, no
network and no dependency.

`shared.adapters.local_summary` says what the notes hold, how it finds them and its limits. The adapter
runs it in a worker thread so that a long transcript does not hold up the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Final

from shared.adapters.local_summary import summarize_transcript
from shared.ports import ModelUsage, Summarization, SummarizerRejected
from shared.transcripts import Transcript

__all__ = ["NAME", "LocalSummarizer", "summarize_transcript"]

NAME: Final = "local:extractive"


class LocalSummarizer:
    """The `Summarizer` port without a model: `shared.adapters.local_summary` says what it finds and how."""

    @property
    def name(self) -> str:
        return NAME

    async def summarize(self, transcript: Transcript, *, title: str | None) -> Summarization:
        try:
            content = await asyncio.to_thread(summarize_transcript, transcript, title)
        except Exception as error:
            # Deterministic: the same transcript would fail the same way, so retrying the job cannot help.
            raise SummarizerRejected(f"the extractive summary failed: {error!r}") from error
        return Summarization(content=content, usage=ModelUsage(requests=0, input_tokens=0, output_tokens=0))

    async def aclose(self) -> None:
        return None
