"""Who an action item is for: the meeting's speakers by the names they are called, or a name as said."""

from __future__ import annotations

import difflib
from typing import Final

from shared.adapters.local_summary.words import STOPWORDS
from shared.transcripts import Transcript

# A misheard name ("marcos" for Marcus, "sophia" for Sofia) still names the one speaker it sounds like: an
# offline recogniser spells names it does not know as the nearest words it does. Only names of four letters
# or more, with the same first letter, and only when one speaker is that close.
_SIMILAR_NAME: Final = 0.7
_SIMILAR_NAME_MIN_LETTERS: Final = 4

# Words that start a sentence capitalised but are never a person: "Perfect, can you send it?"
_NOT_NAMES: Final = STOPWORDS | frozenset(
    """
    monday tuesday wednesday thursday friday saturday sunday january february march april june july
    august september october november december team everyone everybody someone somebody anyone anybody
    nobody marketing sales support finance legal engineering design product ops management hopefully
    finally lastly again meanwhile sorry listen right wait alright great excellent anyway besides also
    next now first then so and but or well yes no oh thanks
    """.split()  # noqa: SIM905 - a word list reads better as prose
)


class People:
    """The meeting's speakers by every name they may be called: display name, first or last name, user id."""

    def __init__(self, transcript: Transcript) -> None:
        self._transcript = transcript
        names: dict[str, str] = {}
        clashes: set[str] = set()
        for speaker in transcript.speakers:
            shown = transcript.speaker_name(speaker.id) or speaker.id
            for key in self._keys(speaker.id, speaker.user_id, speaker.display_name):
                if names.get(key, shown) != shown:
                    clashes.add(key)  # two Toms: "Tom" alone names neither
                names[key] = shown
        self._names = {key: shown for key, shown in names.items() if key not in clashes}

    @staticmethod
    def _keys(speaker_id: str, user_id: str | None, display_name: str | None) -> set[str]:
        keys = {speaker_id.casefold()}
        if user_id:
            keys |= {user_id.casefold(), user_id.split("@")[0].casefold()}
        if display_name:
            words = display_name.split()
            keys |= {display_name.casefold(), words[0].casefold(), words[-1].casefold()}
        return keys

    def speaker(self, speaker_id: str | None) -> str | None:
        return self._transcript.speaker_name(speaker_id)

    def resolve(self, said: str) -> str | None:
        """The speaker's name for a name as said, or None when no speaker goes by it."""
        words = said.split()
        for candidate in (said, *words):
            shown = self._names.get(candidate.casefold())
            if shown is not None:
                return shown
        return self._sounds_like(words[0]) if len(words) == 1 else None

    def _sounds_like(self, word: str) -> str | None:
        key = word.casefold()
        if len(key) < _SIMILAR_NAME_MIN_LETTERS or key in _NOT_NAMES:
            return None
        close = {
            self._names[name]
            for name in difflib.get_close_matches(key, self._names, n=3, cutoff=_SIMILAR_NAME)
            if name[:1] == key[:1] and len(name) >= _SIMILAR_NAME_MIN_LETTERS
        }
        return close.pop() if len(close) == 1 else None

    def owner(self, said: str) -> str | None:
        """The owner for a name as said: a speaker's name, the name itself if it looks like one, else None."""
        words = said.split()
        while words and words[0].casefold() in _NOT_NAMES:
            words.pop(0)  # "And Marcus will": the name is Marcus
        if not words:
            return None
        name = " ".join(words)
        resolved = self.resolve(name)
        if resolved is not None:
            return resolved
        if not all(word[:1].isupper() for word in words) or any(w.casefold() in _NOT_NAMES for w in words):
            return None
        return name
