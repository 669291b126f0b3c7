"""Follow-up questions: rewrite "and in pregnancy?" into a standalone query using the conversation."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

_CUE = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|what if|what else|is it|is that|are they|can it|can they|"
    r"does it|do they|should it|in|during|for|with|while|what dose|which dose|how much|how long|how often|"
    r"any)\b",
    re.IGNORECASE,
)
_PRONOUNS = {"it", "its", "this", "that", "these", "those", "they", "them", "their", "such", "same"}
_STOP = {
    "what",
    "which",
    "who",
    "how",
    "when",
    "where",
    "why",
    "is",
    "are",
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "for",
    "on",
    "and",
    "or",
    "about",
    "do",
    "does",
    "should",
    "can",
    "i",
    "my",
    "me",
    "you",
    "be",
    "there",
}
# Populations and settings qualify the current topic rather than naming a new one.
_QUALIFIERS = {
    "pregnancy",
    "pregnant",
    "breastfeeding",
    "lactation",
    "children",
    "child",
    "infants",
    "elderly",
    "older adults",
    "adults",
    "women",
    "men",
    "kidney disease",
    "renal impairment",
    "dose",
    "dosing",
}


@dataclass(frozen=True, slots=True)
class Turn:
    """A previous question in the conversation and the topic its answer was about."""

    question: str
    query: str
    topic: str


class Rewriter(Protocol):
    """Turns a follow-up into a standalone query."""

    def mentions_topic(self, question: str) -> bool: ...

    def rewrite(self, question: str, history: Sequence[Turn]) -> str: ...


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9'-]*", text.lower())


class FollowUpRewriter:
    """Decides whether a question depends on the conversation and, if so, names the topic in it."""

    def __init__(self, topics: Iterable[str]) -> None:
        terms = {t.strip().lower() for t in topics if len(t.strip()) >= 3}
        self._topics = sorted(terms - _QUALIFIERS, key=len, reverse=True)

    def mentions_topic(self, question: str) -> bool:
        """True when the question names a topic the corpus knows."""
        text = " " + " ".join(_words(question)) + " "
        return any(f" {t} " in text for t in self._topics)

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone query: the question itself, or prefixed with the conversation's current topic."""
        if not history:
            return question
        words = _words(question)
        content = [w for w in words if w not in _STOP]
        dependent = bool(_CUE.match(question)) or any(w in _PRONOUNS for w in words) or len(content) <= 3
        if not dependent or (self.mentions_topic(question) and not any(w in _PRONOUNS for w in words)):
            return question
        last = history[-1]
        topic = last.topic or last.query
        # The earlier question rides along: "and for how long?" needs what was asked before, not only the topic.
        earlier = last.query.removeprefix(f"{topic}: ")
        return f"{topic}: {question.strip()} | {earlier}"


_REWRITE_PROMPT = (
    "Rewrite the last question of this conversation as one standalone question that names what it is about. "
    "Reply with the question only.\n\n{turns}\nLast question: {question}"
)


class LLMRewriter:
    """Follow-up rewriting by the configured chat model, the rule-based rewriter when it fails or is not needed."""

    def __init__(self, model: Any, fallback: FollowUpRewriter) -> None:
        self.model = model  # a LangChain chat model
        self.fallback = fallback

    def mentions_topic(self, question: str) -> bool:
        """True when the question names a topic the corpus knows."""
        return self.fallback.mentions_topic(question)

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        """The model's standalone question when the rules find the question depends on the conversation."""
        ruled = self.fallback.rewrite(question, history)
        if ruled == question:
            return question
        turns = "\n".join(f"Earlier question: {t.question}" for t in history[-3:])
        try:
            reply = self.model.invoke(_REWRITE_PROMPT.format(turns=turns, question=question))
            text = " ".join(str(reply.content).split()).strip().strip('"')
        except Exception as exc:  # any client failure: the rules' rewrite
            log.warning("LLM follow-up rewrite failed (%s); using the rule-based rewrite", type(exc).__name__)
            return ruled
        if not text or len(text) > 400 or "\n" in text:
            return ruled
        return text
