"""Small text helpers shared by the metrics: sentence splitting, whitespace normalisation, negation cues."""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by space and an upper-case letter, digit or opening bracket/quote,
# or at a line break; list bullets ("- ", "1. ") at a line start are separators too.
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])|\n+|\s+-\s+(?=[A-Z])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,3}[.)])\s+")
_WORD = re.compile(r"\w+")
_ABBREVIATION = re.compile(r"(?:\b(?:e\.g|i\.e|vs|etc|Dr|Mr|Mrs|Ms|St|No|Fig|al|approx|cf)\.)$")
_NEGATION = re.compile(
    r"\b(?:no|not|none|never|neither|nor|without|cannot|can't|doesn't|don't|didn't|isn't|aren't|wasn't|"
    r"weren't|won't|lack(?:s|ed|ing)?|absence|absent|fail(?:s|ed)?|unlikely|ineffective|"
    r"insufficient|unknown|unclear|undetermined|unable|nothing)\b",
    re.IGNORECASE,
)


def normalise(text: str) -> str:
    """Whitespace collapsed to single spaces, trimmed."""
    return " ".join(text.split())


def split_sentences(text: str, *, min_words: int = 3) -> list[str]:
    """Sentences of a text (line breaks and bullets split too); fragments under `min_words` words dropped."""
    pieces: list[str] = []
    for piece in _BOUNDARY.split(text):
        piece = normalise(_BULLET.sub("", piece))
        if pieces and _ABBREVIATION.search(pieces[-1]):
            pieces[-1] = f"{pieces[-1]} {piece}"  # "e.g. 5 mg" is one sentence
        elif piece:
            pieces.append(piece)
    return [p for p in pieces if len(_WORD.findall(p)) >= min_words]


_STOP = frozenset({
    "a", "an", "the", "of", "in", "on", "to", "for", "and", "or", "is", "are", "was", "were", "be", "been",
    "being", "by", "with", "as", "at", "it", "its", "this", "that", "these", "those", "which", "who",
    "whom", "from", "has", "have", "had", "do", "does", "did", "can", "could", "may", "might", "will",
    "would", "should", "shall", "than", "then", "there", "their", "they", "them", "he", "she", "his",
    "her", "we", "our", "you", "your", "i",
})


def content_words(text: str) -> set[str]:
    """Lower-case words of a sentence without stop words and negation cues."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and not _NEGATION.fullmatch(w)}


def overlap(left: str, right: str) -> float:
    """Jaccard overlap of the two sentences' content words (0 when either has none)."""
    a, b = content_words(left), content_words(right)
    return len(a & b) / len(a | b) if a and b else 0.0


def negated(text: str) -> bool:
    """True when a sentence carries a negation cue."""
    return bool(_NEGATION.search(text))
