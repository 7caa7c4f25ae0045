"""SpeechProgress: the share of a transcription done, moving with decoding and with each piece in flight."""

from __future__ import annotations

import itertools

import pytest

from shared.speech import EXPECTED_SECONDS_PER_AUDIO_SECOND, SpeechProgress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_unknown_length_gives_no_share() -> None:
    assert SpeechProgress(None).fraction() is None
    assert SpeechProgress(0.0).fraction() is None


def test_decoding_alone_is_a_small_share() -> None:
    progress = SpeechProgress(100.0, clock=Clock())
    progress.decoded(50.0)
    progress.cut(20.0)
    assert progress.fraction() == pytest.approx(0.05)
    progress.decoded(100.0)
    assert progress.fraction() == pytest.approx(0.1)


def test_a_piece_in_flight_moves_at_the_expected_pace_then_creeps_never_reaching_done() -> None:
    clock = Clock()
    progress = SpeechProgress(60.0, clock=clock)
    progress.cut(40.0)
    progress.decoded(60.0)
    progress.started("mix-0", 40.0)
    expected = 40.0 * EXPECTED_SECONDS_PER_AUDIO_SECOND  # 20 s for the whole piece
    seen = []
    for _ in range(20):  # every 2 s, for twice as long as expected
        clock.now += 2.0
        seen.append(progress.fraction())
    assert all(b is not None and a is not None and b > a for a, b in itertools.pairwise(seen))
    halfway = seen[round(expected / 2 / 2.0) - 1]
    assert halfway == pytest.approx(0.1 + 0.9 * 0.5, abs=0.01)
    assert max(s for s in seen if s is not None) <= 0.99
    progress.finished("mix-0", 40.0)
    assert progress.fraction() == 0.99  # all transcribed: the transcript's write says done


def test_the_pace_is_learnt_from_finished_pieces_and_the_share_never_goes_back() -> None:
    clock = Clock()
    progress = SpeechProgress(100.0, clock=clock)
    progress.decoded(50.0)
    progress.cut(10.0)
    progress.cut(10.0)
    progress.started("a", 10.0)
    clock.now += 1.0  # a fast transcriber: 0.1 s per audio second
    progress.finished("a", 10.0)
    # Half decoded, 20 s of speech found: 40 s expected in all, 10 of it transcribed.
    assert progress.fraction() == pytest.approx(0.1 * 0.5 + 0.9 * 10 / 40, abs=0.001)
    progress.started("b", 10.0)
    clock.now += 0.5  # half of the 1 s learnt
    assert progress.fraction() == pytest.approx(0.05 + 0.9 * 15 / 40, abs=0.001)
    # More speech turns up than the density promised: the estimate grows, the share shown does not fall.
    progress.cut(60.0)
    assert progress.fraction() == pytest.approx(0.05 + 0.9 * 15 / 40, abs=0.001)


def test_pieces_finished_by_an_earlier_attempt_count_at_once() -> None:
    progress = SpeechProgress(10.0, clock=Clock())
    progress.decoded(10.0)
    progress.cut(8.0)
    progress.finished("mix-0", 8.0)  # never started here: kept from before
    assert progress.fraction() == 0.99
