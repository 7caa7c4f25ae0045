"""bench.notes_quality's scoring: a bench whose matching is wrong would print numbers that mean nothing."""

from typing import Any

from bench.notes_quality import overlap, pairs, score, word_error_rate
from shared.summaries import ActionItem, Decision, SummaryContent

SCRIPT: dict[str, Any] = {
    "speakers": [{"id": "sofia", "name": "Sofia Alvarez"}, {"id": "marcus", "name": "Marcus Bell"}],
    "decisions": ["Ship the payment webhook retries behind a feature flag so they can be switched off."],
    "actionItems": [
        {
            "owner": "sofia",
            "task": "Send review comments on the refund dashboard pull request",
            "due": "Wednesday",
        },
        {
            "owner": "marcus",
            "task": "Share the webhook integration test results in the team channel",
            "due": "Thursday",
        },
    ],
}


def notes(decisions: list[str], items: list[ActionItem]) -> SummaryContent:
    return SummaryContent(
        overview="",
        key_points=[],
        decisions=[Decision(text=text) for text in decisions],
        action_items=items,
        chapters=[],
        open_questions=[],
    )


def test_a_shorter_paraphrase_matches_and_one_shared_word_does_not() -> None:
    truth = SCRIPT["decisions"][0]

    assert overlap(truth, "Go with a feature flag for the webhook retries.") >= 0.5
    assert overlap(truth, "The payment is late.") == 0.0


def test_each_item_is_matched_once() -> None:
    matched = pairs(["send the report", "fix the build"], ["send the report today", "send the report now"])

    assert [truth for truth, _ in matched] == [0]


def test_owners_are_right_by_display_name_or_first_name_and_wrong_otherwise() -> None:
    found = notes(
        ["Go with a feature flag for the webhook retries."],
        [
            ActionItem(
                owner="Sofia Alvarez", task="Send my comments on the refund dashboard pull request", due=None
            ),
            ActionItem(owner="Sofia", task="Share the test results in the team channel", due=None),
            ActionItem(owner="Bob", task="Book the venue", due=None),
        ],
    )

    decisions, actions = score(SCRIPT, found)

    assert (decisions.matched, decisions.truth, decisions.found) == (1, 1, 1)
    assert (actions.matched, actions.found, actions.owners_right) == (2, 3, 1)
    assert actions.recall == 1.0
    assert round(actions.precision, 3) == 0.667


def test_word_error_rate_counts_substitutions_insertions_and_deletions() -> None:
    assert word_error_rate(["the cat sat down"], ["the bat sat"]) == 0.5
    assert word_error_rate(["a b"], ["a b"]) == 0.0
