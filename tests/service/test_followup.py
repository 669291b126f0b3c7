"""Follow-up rewriting decisions (pure logic, no model)."""

from __future__ import annotations

from service import FollowUpRewriter, Turn

REWRITER = FollowUpRewriter(["neuromyelitis optica", "NMOSD", "asthma", "hypertension", "pregnancy"])
HISTORY = [Turn(question="What is the treatment for neuromyelitis optica?",
                query="What is the treatment for neuromyelitis optica?", topic="neuromyelitis optica")]


def test_follow_ups_get_the_conversation_topic() -> None:
    for question in (
        "what about during pregnancy?",
        "And in children?",
        "What dose?",
        "Is it safe long term?",
        "how long for?",
    ):
        expected = f"neuromyelitis optica: {question} | What is the treatment for neuromyelitis optica?"
        assert REWRITER.rewrite(question, HISTORY) == expected, question


def test_standalone_questions_are_left_alone() -> None:
    assert REWRITER.rewrite("What is the first-line treatment for hypertension?", HISTORY) == (
        "What is the first-line treatment for hypertension?"
    )
    assert REWRITER.rewrite("what about asthma?", HISTORY) == "what about asthma?"
    assert REWRITER.rewrite("what about during pregnancy?", []) == "what about during pregnancy?"
