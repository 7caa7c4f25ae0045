"""The `Answerer` port offline: `LocalAnswerer` (`local:passages`), no model, no network.

It writes nothing of its own: the answer is the best-matching passages (the service ranks them with BM25,
shared/notes/retrieval.py), each quoted with its time and speaker, the sentence of it that shares most
words with the question. Passages that stand for the same transcript span (a segment and a note item
resting on it) are quoted once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from shared.adapters.openai_summarizer import clock
from shared.notes.evidence import best_sentence
from shared.notes.retrieval import Passage
from shared.ports import Answered, Citation, ModelUsage

NAME: Final = "local:passages"
QUOTED: Final = 3  # passages quoted in an answer: the best few, not a transcript


class LocalAnswerer:
    @property
    def name(self) -> str:
        return NAME

    async def answer(self, question: str, passages: Sequence[Passage], *, title: str | None) -> Answered:
        lines: list[str] = []
        citations: list[Citation] = []
        seen: set[tuple[str, tuple[int, ...]]] = set()
        for position, passage in enumerate(passages):
            if len(citations) == QUOTED:
                break
            span = (passage.recording_id, passage.segments)
            if span in seen:
                continue
            seen.add(span)
            who = passage.speaker or "Someone"
            if passage.kind == "summary":
                lines.append(f"- The notes, at {clock(passage.start)} ({who}): {passage.text}")
                citations.append(Citation(position))
            else:
                quote = best_sentence(question, passage.text)
                lines.append(f'- {who} at {clock(passage.start)}: "{quote}"')
                citations.append(Citation(position, quote))
        if not citations:
            return Answered(None, (), ModelUsage(0, 0, 0))
        # Closest by shared words, not an answer understood: the heading says so rather than claim one.
        text = "Closest to the question in the recordings of this meeting:\n" + "\n".join(lines)
        return Answered(text, tuple(citations), ModelUsage(0, 0, 0))

    async def aclose(self) -> None:
        return None
