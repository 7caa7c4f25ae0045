"""Offline meeting notes: an extractive summarizer with no model, no network and no dependency.

`summarize_transcript` fills every field of `SummaryContent` from the transcript's sentences and speakers,
with heuristics a reader can check against the transcript. Each module's docstring says how for its part:

- `sentences` and `words`: the transcript cut into sentences, and their content words.
- `scoring`: the overview and key points.
- `decisions`; `action_items`, from `claims` with `people` and `dues`; `open_questions`; `chapters`.
- `cues`: the English regular expressions that find decisions, claims, dues and questions.
- `notes`: the fields put together.

Limits, by design:
- The cue lists are English. For another language (the transcript's `language`), decisions and action
  items stay empty and open questions are only the unanswered "?" ones; the overview, key points and
  chapters are still extracted, with stop words guessed from how many sentences a word occurs in.
- Text without punctuation (the offline recogniser, some speech-to-text models) is cut where a reader would
  put the stops: at speaker turns and long pauses, and inside a run-on where a person is addressed ("bob
  please", "raj can you"), named as the subject of a commitment ("and tom will") or the meeting closes
  ("thanks", "see you"); a clause that opens like a question ("should we", "what", "can we") gets its
  question mark. What is left over sixty words is cut into pieces of forty.
- Scripts without spaces between words (Chinese, Japanese) are split into sentences but hardly into words,
  so the scoring there is crude.
- Extractive: sentences are quoted (fillers trimmed), never rewritten; "my" in a task is its owner's.

Work is linear in the transcript's length (lookups are dicts, look-backs are bounded windows), so a
three-hour meeting takes a fraction of a second. `LocalSummarizer` still runs it in a worker thread so that
a long transcript does not hold up the event loop. Only the standard library is used; the regular
expressions compile lazily on first use, not at import.
"""

from shared.adapters.local_summary.notes import summarize_transcript

__all__ = ["summarize_transcript"]
