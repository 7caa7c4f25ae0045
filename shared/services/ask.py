"""Asking a meeting a question: an answer drawn only from its recordings' transcripts and notes, with the
transcript spans it rests on.

Any member of the meeting may ask (outsiders: 404, as every meeting route). The passages are those of the
meeting's recordings whose transcript is written, and of the notes the caller may read (the visibility
rule of shared/services/notes.py); BM25 picks the best few (shared/notes/retrieval.py), the Answerer
(SUMMARIZER's provider) answers from them alone. None sharing a word with the question: the answer says
the recordings do not say, without asking a model. No recording with a transcript yet: 409, as reading a
transcript that is not ready is.

Sources come from the transcript itself, never from what an answerer claims: a citation of a passage that
was not sent is dropped; its time, speaker and span are the passage's; its quote is the answerer's only if
those words occur there (checked as evidence is), else the sentence of the span sharing most words with the
answer. An answer left with no source rests on nothing shown: it is refused like one the model declined.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from shared.domain.errors import Conflict, Unavailable, UpstreamFailed
from shared.domain.recording_paths import ARTIFACTS, TRANSCRIPT_FILES, artifact_blob
from shared.domain.recordings import Recording
from shared.notes.evidence import best_sentence, normalised, verbatim
from shared.notes.retrieval import Passage, passages_of, ranked
from shared.ports import Answerer, BlobNotFound, BlobStore, Store, SummarizerRejected, SummarizerUnavailable
from shared.services.meetings import MeetingService
from shared.services.notes import NotesService
from shared.transcripts import Transcript

log = logging.getLogger(__name__)

NOT_SAID: Final = "The recordings of this meeting don't say."
PASSAGES: Final = 12  # sent to the answerer: enough to answer from, few enough to read (and to pay for)
MAX_SOURCES: Final = 10


@dataclass(frozen=True, slots=True)
class Source:
    recording_id: str
    start: float
    end: float
    speaker: str | None
    quote: str


@dataclass(frozen=True, slots=True)
class Answer:
    answer: str
    sources: list[Source]


class AskService:
    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        meetings: MeetingService,
        notes: NotesService,
        answerer: Answerer,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._meetings = meetings
        self._notes = notes
        self._answerer = answerer

    async def ask(self, caller: str, meeting_id: str, question: str) -> Answer:
        meeting = (await self._meetings.get(caller, meeting_id)).value
        recordings = [
            r
            for r in await self._store.list_recordings(meeting_id)
            if TRANSCRIPT_FILES["json"][0] in r.artifacts
        ]
        if not recordings:
            raise Conflict("there is nothing to ask about yet: no recording of this meeting has a transcript")
        passages: list[Passage] = []
        transcripts: dict[str, Transcript] = {}
        for recording in recordings:
            transcript = await self._transcript(recording)
            if transcript is None:
                continue  # deleted while we read
            transcripts[recording.id] = transcript
            notes = await self._notes.readable(caller, meeting, recording)
            passages += passages_of(recording.id, transcript, notes)
        return await answer_from(self._answerer, question, passages, transcripts, title=meeting.title)

    async def _transcript(self, recording: Recording) -> Transcript | None:
        name = artifact_blob(recording.meeting_id, recording.id, TRANSCRIPT_FILES["json"][0])
        try:
            return Transcript.model_validate_json(await self._blobs.get(ARTIFACTS, name))
        except BlobNotFound:
            return None


async def answer_from(
    answerer: Answerer,
    question: str,
    passages: Sequence[Passage],
    transcripts: Mapping[str, Transcript],
    *,
    title: str | None,
) -> Answer:
    """The answer to `question` from the best of `passages` (of the recordings in `transcripts`), with
    sources made from those transcripts (the module docstring says how)."""
    best = [r.passage for r in ranked(passages, question, PASSAGES)]
    if not best:
        return Answer(NOT_SAID, [])
    try:
        answered = await answerer.answer(question, best, title=title)
    except SummarizerUnavailable as exc:
        raise Unavailable(f"the answer could not be made now: {exc}", exc.retry_after) from exc
    except SummarizerRejected as exc:
        raise UpstreamFailed(f"the answer could not be made: {exc}") from exc
    if answered.text is None:
        return Answer(NOT_SAID, [])
    sources: list[Source] = []
    seen: set[tuple[str, tuple[int, ...]]] = set()
    dropped = 0
    for citation in answered.citations:
        if not 0 <= citation.passage < len(best):
            dropped += 1
            continue
        passage = best[citation.passage]
        span = (passage.recording_id, passage.segments)
        if span in seen or len(sources) == MAX_SOURCES:
            continue
        seen.add(span)
        sources.append(_source(passage, transcripts[passage.recording_id], citation.quote, answered.text))
    if dropped:
        log.warning("%s cited %d passage(s) it was not given: dropped", answerer.name, dropped)
    if not sources:
        return Answer(NOT_SAID, [])
    return Answer(answered.text, sources)


def _source(passage: Passage, transcript: Transcript, quote: str | None, answer: str) -> Source:
    text = " ".join(transcript.segments[i].text for i in passage.segments)
    # As given when it is the transcript's own text (its punctuation kept), else as the transcript writes it.
    said = (quote if quote in text else verbatim(quote, text)) if quote and normalised(quote) else None
    return Source(
        recording_id=passage.recording_id,
        start=passage.start,
        end=passage.end,
        speaker=passage.speaker,
        quote=(said or best_sentence(answer, text))[:1000],
    )
