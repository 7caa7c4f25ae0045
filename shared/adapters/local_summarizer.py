"""The `Summarizer` port offline: `LocalSummarizer` (`local:extractive`), meeting notes with no model, no
network and no dependency.

`shared.adapters.local_summary` says what the notes hold, how it finds them and its limits. The adapter
runs it in a worker thread so that a long transcript does not hold up the event loop. The notes quote the
transcript, so each item's source is the segment its words come from (shared/notes/evidence.py's Locator).
"""

from __future__ import annotations

import asyncio
from typing import Final

from shared.adapters.local_summary import summarize_transcript
from shared.notes.evidence import Locator
from shared.ports import ModelUsage, Summarization, SummarizerRejected
from shared.summaries import Sources, SummaryContent
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
            content, sources = await asyncio.to_thread(_notes, transcript, title)
        except Exception as error:
            # Deterministic: the same transcript would fail the same way, so retrying the job cannot help.
            raise SummarizerRejected(f"the extractive summary failed: {error!r}") from error
        return Summarization(
            content=content, usage=ModelUsage(requests=0, input_tokens=0, output_tokens=0), sources=sources
        )

    async def aclose(self) -> None:
        return None


def _notes(transcript: Transcript, title: str | None) -> tuple[SummaryContent, Sources]:
    content = summarize_transcript(transcript, title)
    return content, Locator(transcript).sources(content)
