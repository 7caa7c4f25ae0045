"""Content words: a sentence's words less the stop words, plurals folded, as the keys the scoring counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Final

from shared.adapters.local_summary.cues import word_re
from shared.transcripts import Transcript

# Function words, fillers, small talk, dates and numbers: never topics, never keywords. English only; for
# other languages the words in too many sentences are dropped instead (`_COMMON_WORD_SHARE`).
STOPWORDS: Final = frozenset(
    """
    a about above after again against all almost also although always am among an and another any anybody
    anyone anything anyway anyways are aren't around as at away back be became because become been before
    being below besides between both but by can can't cannot could couldn't did didn't do does doesn't
    doing don't done down during each either else enough even ever every everybody everyone everything
    few for from further get gets getting go goes going gone gonna got gotten had hadn't has hasn't have
    haven't having he he'd he'll he's her here here's hers herself him himself his how how's however i
    i'd i'll i'm i've if in instead into is isn't it it'd it'll it's its itself just kind kinda least
    less let let's like likely made make makes making many may maybe me might mine more most mostly much
    must mustn't my myself need needs neither never no nobody none nor not nothing now of off often oh ok
    okay on once one ones only onto or other others otherwise our ours ourselves out over own per perhaps
    please pretty probably quite rather re really right said same say saying says see seem seems she
    she'd she'll she's should shouldn't since so some somebody someone something sometimes somewhat soon
    sort still such sure than thank thanks that that'd that'll that's the their theirs them themselves
    then there there'd there'll there's these they they'd they'll they're they've thing things think
    this those though through thus till to today together tomorrow too toward towards uh um under unless
    until up upon us very via want wanted wants was wasn't way we we'd we'll we're we've well went were
    weren't what what's whatever when when's where where's whether which while who who's whole whom
    whose why why's will with within without won't would wouldn't yeah yes yep yet you you'd you'll
    you're you've your yours yourself yourselves hi hello hey bye alright actually basically literally
    totally definitely absolutely exactly honestly great good nice cool fine awesome perfect lot lots
    bit stuff guys everybody's mean means know knew known guess suppose hmm mhm huh ah eh also just
    like look looks looking let me mr mrs ms dr etc yesterday last next first second new old another
    got gotta wanna able sounds sound agree agreed fair true false monday tuesday wednesday thursday
    friday saturday sunday january february march april june july august september october november
    december morning afternoon evening week weeks day days two three four five six seven eight nine ten
    eleven twelve fifteen twenty thirty forty fifty hundred thousand million percent half
    """.split()  # noqa: SIM905 - a word list reads better as prose
)
_COMMON_WORD_SHARE: Final = 0.3  # non-English: a word in more than this share of sentences is a stop word
_COMMON_WORD_MIN_SENTENCES: Final = 20


def word_keys(text: str, english: bool) -> list[str]:
    """Every word of the text as its content key, or "" for a stop word (kept to know what is adjacent)."""
    keys = []
    for word in word_re().findall(text.lower()):
        if word.isdigit() or word in STOPWORDS or len(word) < (3 if word.isascii() else 2):
            keys.append("")
        else:
            keys.append(fold(word) if english else word)
    return keys


def fold(word: str) -> str:
    """English plurals and 's folded, so that "tickets" and "ticket" count as one word."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def speaker_words(transcript: Transcript, english: bool) -> set[str]:
    said = " ".join(f"{s.display_name or ''} {s.user_id or ''}" for s in transcript.speakers)
    return {key for key in word_keys(said.replace("@", " "), english) if key}


def common_words(tokens: Sequence[Sequence[str]]) -> set[str]:
    if len(tokens) < _COMMON_WORD_MIN_SENTENCES:
        return set()
    spread = Counter(key for keys in tokens for key in set(keys) if key)
    return {key for key, count in spread.items() if count > _COMMON_WORD_SHARE * len(tokens)}


def title_words(title: str | None, english: bool) -> frozenset[str]:
    return frozenset(key for key in word_keys(title or "", english) if key)


def similar(one: str, other: str) -> bool:
    a = {key for key in word_keys(one, english=True) if key}
    b = {key for key in word_keys(other, english=True) if key}
    return bool(a and b) and len(a & b) / min(len(a), len(b)) >= 0.7
