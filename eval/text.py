"""Small text helpers shared by the metrics: sentence splitting, whitespace normalisation, negation cues."""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by space and an upper-case letter, digit or opening bracket/quote,
# or at a line break; list bullets ("- ", "1. ") at a line start are separators too.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n+|\s+-\s+(?=[A-Z])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+")
_WORD = re.compile(r"\w+")
_NEGATION = re.compile(
    r"\b(?:no|not|none|never|neither|nor|without|cannot|can't|doesn't|don't|didn't|isn't|aren't|wasn't|"
    r"weren't|won't|lack(?:s|ed|ing)?|absence|absent|fail(?:s|ed)?|unlikely|ineffective|"
    r"insufficient)\b",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces, trimmed."""
    return " ".join(text.split())


def split_sentences(text: str, *, min_words: int = 3) -> list[str]:
    """Sentences of a text (line breaks and bullets split too); fragments under `min_words` words dropped."""
    out: list[str] = []
    for piece in _BOUNDARY.split(text):
        sentence = normalise(_BULLET.sub("", piece))
        if len(_WORD.findall(sentence)) >= min_words:
            out.append(sentence)
    return out


def negated(text: str) -> bool:
    """True when a sentence carries a negation cue."""
    return bool(_NEGATION.search(text))
