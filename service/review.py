"""The rules of medical review: states and the moves between them, audit entries, edits, feedback, reuse keys.

Moves a reviewer may make (anything else is refused, naming the allowed ones):
    submitted → under_review (claim) → approved (approve) → retracted (retract) → submitted (resubmit)
    under_review → changes_requested (request changes) → under_review (claim) or submitted (resubmit)
An approved answer whose cited guideline is re-ingested with changes falls back to submitted (action `stale`,
recorded by medcite itself); no key can make that move. An approved answer a reader rates unsafe goes back to
under_review (action `flag`, actor `feedback`, the note quoting the comment).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from medcite.errors import ConflictError, InvalidInputError
from service.models import Answer, CitedSentence, KeyPoint, ReviewStatus
from service.verify import Passage, Verifier

S = ReviewStatus
TRANSITIONS: dict[ReviewStatus, tuple[ReviewStatus, ...]] = {
    S.SUBMITTED: (S.UNDER_REVIEW,),
    S.UNDER_REVIEW: (S.APPROVED, S.CHANGES_REQUESTED),
    S.CHANGES_REQUESTED: (S.UNDER_REVIEW, S.SUBMITTED),
    S.APPROVED: (S.RETRACTED,),
    S.RETRACTED: (S.SUBMITTED,),
}
EDITABLE = frozenset(s for s in ReviewStatus if s is not S.APPROVED)  # approved text changes only after retraction
SYSTEM_ACTOR = "medcite"
FEEDBACK_ACTOR = "feedback"


class Action(StrEnum):
    """What an audit entry records."""

    TRANSITION = "transition"  # a reviewer moved the answer
    EDIT = "edit"  # a reviewer changed sentences (state unchanged)
    STALE = "stale"  # a cited guideline changed after approval: back to submitted
    FLAG = "flag"  # a reader rated an approved answer unsafe: back to under_review


class Rating(StrEnum):
    """A reader's rating of an answer."""

    HELPFUL = "helpful"
    NOT_HELPFUL = "not_helpful"
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One event of an answer's review trail; entries are only ever appended."""

    id: int
    answer_id: str
    at: str
    actor: str  # the key's name, the CLI's --as, or "medcite" for automatic fall-backs
    action: Action
    from_status: ReviewStatus
    to_status: ReviewStatus
    note: str


@dataclass(frozen=True, slots=True)
class EditEntry:
    """One sentence as it was before and after a reviewer's edit."""

    audit_id: int
    number: int  # 1-based position among the answer's sentences (summary, then key points)
    before_text: str
    before_citations: tuple[int, ...]
    after_text: str
    after_citations: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SentenceEdit:
    """A reviewer's new text (and optionally new citations) for one sentence."""

    number: int
    text: str
    citations: tuple[int, ...] | None = None  # None keeps the sentence's citations


@dataclass(frozen=True, slots=True)
class Feedback:
    """A reader's rating of an answer."""

    id: int
    answer_id: str
    rating: Rating
    comment: str
    created_at: str


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """Which answers the review queue lists."""

    state: ReviewStatus | None = None
    topic: str = ""  # substring of the answer's topic, any case
    guideline: str = ""  # a cited document id
    audience: str = ""
    unsafe_only: bool = False
    limit: int = 100
    offset: int = 0


@dataclass(frozen=True, slots=True)
class QueueItem:
    """An answer as the review queue lists it."""

    answer_id: str
    question: str
    audience: str
    topic: str
    status: ReviewStatus
    created_at: str
    guidelines: tuple[str, ...]
    abstained: bool
    feedback: int  # ratings received
    unsafe: int  # of which "unsafe": such answers need a look first


def allowed_next(status: ReviewStatus) -> tuple[ReviewStatus, ...]:
    """The states an answer in `status` may move to."""
    return TRANSITIONS.get(status, ())


def check_transition(current: ReviewStatus, target: ReviewStatus) -> None:
    """Raise ConflictError naming the allowed moves unless current → target is one of them."""
    allowed = allowed_next(current)
    if target not in allowed:
        names = ", ".join(s.value for s in allowed) or "none"
        raise ConflictError(f"cannot move an answer from {current.value} to {target.value}; "
                            f"allowed from {current.value}: {names}")


def question_key(question: str) -> str:
    """The question as reuse compares it: casefolded, whitespace collapsed, trailing punctuation stripped."""
    text = " ".join(question.casefold().split())
    end = len(text)
    while end and (text[end - 1].isspace() or unicodedata.category(text[end - 1]).startswith("P")):
        end -= 1
    return text[:end]


def last_updated(reviewed_at: str, years: Sequence[int | None]) -> str:
    """The later of the review date (YYYY-MM-DD) and the newest cited guideline's year."""
    newest = max((y for y in years if y), default=None)
    day = reviewed_at[:10]
    if not day:
        return str(newest) if newest else ""
    if newest is not None and newest > int(day[:4]):
        return str(newest)
    return day


def passages_of(answer: Answer) -> list[Passage]:
    """The numbered passages an answer's citations point at: each reference's quoted spans, by number."""
    refs = sorted(answer.references, key=lambda r: r.number)
    return [Passage(r.doc_id, tuple(s.text for s in r.spans)) for r in refs]


def apply_edits(answer: Answer, edits: Sequence[SentenceEdit], verifier: Verifier,
                max_chars: int = 2000) -> tuple[Answer, list[EditEntry]]:
    """The answer with the edits applied, and what changed; InvalidInputError names the first sentence that is
    out of range, cites a number with no reference, or is not supported by the passages it cites."""
    sentences = answer.all_sentences()
    numbers = {r.number for r in answer.references}
    if not edits:
        raise InvalidInputError("no sentence to edit")
    seen: set[int] = set()
    changed: list[tuple[int, CitedSentence]] = []
    for edit in edits:
        if not 1 <= edit.number <= len(sentences):
            raise InvalidInputError(f"sentence {edit.number} does not exist; the answer has {len(sentences)}")
        if edit.number in seen:
            raise InvalidInputError(f"sentence {edit.number} is edited twice")
        seen.add(edit.number)
        text = " ".join(edit.text.split())
        if not text or len(text) > max_chars:
            raise InvalidInputError(f"sentence {edit.number} must have 1 to {max_chars} characters")
        old = sentences[edit.number - 1]
        cites = old.citations if edit.citations is None else tuple(dict.fromkeys(edit.citations))
        missing = [c for c in cites if c not in numbers]
        if missing:
            raise InvalidInputError(f"sentence {edit.number} ({text!r}) cites [{', '.join(map(str, missing))}], "
                                    "which names no reference of this answer")
        changed.append((edit.number, dataclasses.replace(old, text=text, citations=cites, supported=True, reason="")))
    checks = verifier.check_all([(s.text, s.citations) for _, s in changed], passages_of(answer))
    for (number, sentence), check in zip(changed, checks, strict=True):
        if not check.supported:
            raise InvalidInputError(f"sentence {number} ({sentence.text!r}) is not supported by the passages it "
                                    f"cites ({check.reason})")
    new = {n: s for n, s in changed}
    history = [EditEntry(0, n, sentences[n - 1].text, sentences[n - 1].citations, s.text, s.citations)
               for n, s in changed]
    return _replace_sentences(answer, new), history


def _replace_sentences(answer: Answer, new: dict[int, CitedSentence]) -> Answer:
    number = 0

    def pick(sentence: CitedSentence) -> CitedSentence:
        nonlocal number
        number += 1
        return new.get(number, sentence)

    summary = [pick(s) for s in answer.summary_sentences]
    points = [KeyPoint(k.heading, tuple(pick(i) for i in k.items)) for k in answer.key_points]
    return dataclasses.replace(answer, summary_sentences=summary, key_points=points)
