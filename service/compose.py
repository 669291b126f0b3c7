"""Composition: the Composer protocol and the default extractive composer (no LLM, no model call).

Sentence vectors were computed at ingest, so composing costs only vector arithmetic over the evidence.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from medcite.config import ComposeSettings
from service.candidates import Candidate, candidates, scored, weight_vector
from service.models import (
    Audience,
    CitedSentence,
    Evidence,
    KeyPoint,
    Reference,
    Verification,
)
from service.references import ReferenceBook
from service.understanding import QueryAnalysis


@dataclass(slots=True)
class Composition:
    """What a composer returns: cited sentences and the references they point at."""

    summary: list[CitedSentence]
    key_points: list[KeyPoint]
    references: list[Reference]
    confidence: float
    abstained: bool
    nearest_topics: list[str]
    composer: str = "extractive"
    notes: list[str] = field(default_factory=list)
    verification: Verification | None = None


@dataclass(frozen=True, slots=True)
class SentenceEvent:
    """One finished (and, for generated text, verified) sentence of an answer being streamed."""

    part: str  # "summary" or "key_points"
    heading: str  # the key point's heading ("" in the summary)
    sentence: CitedSentence
    references: tuple[Reference, ...] = ()  # references this sentence cites first


@dataclass(frozen=True, slots=True)
class ComposeRequest:
    """What a composer is given: the (rewritten) question, its vector, the gated evidence, the reader, the
    question's analysis, and the earlier questions of the conversation."""

    question: str
    query_vector: npt.NDArray[np.float32]
    evidence: list[Evidence]
    audience: Audience
    analysis: QueryAnalysis | None = None
    history: tuple[str, ...] = ()


class Composer(Protocol):
    """Turns evidence into a cited answer."""

    name: str

    def compose(self, request: ComposeRequest) -> Composition:
        """A cited answer from evidence that passed the answerability gate (abstain when nothing fits)."""
        ...

    def stream(self, request: ComposeRequest) -> Iterator[SentenceEvent | Composition]:
        """The answer's sentences as they are ready, then the whole Composition."""
        ...


def events_of(composition: Composition) -> Iterator[SentenceEvent]:
    """The sentences of a finished composition as stream events, each with the references it cites first."""
    by_number = {r.number: r for r in composition.references}
    seen: set[int] = set()

    def event(part: str, heading: str, sentence: CitedSentence) -> SentenceEvent:
        new = tuple(by_number[n] for n in sentence.citations if n in by_number and n not in seen)
        seen.update(sentence.citations)
        return SentenceEvent(part, heading, sentence, new)

    for sentence in composition.summary:
        yield event("summary", "", sentence)
    for kp in composition.key_points:
        for item in kp.items:
            yield event("key_points", kp.heading, item)


def confidence_of(evidence: list[Evidence], query_vector: npt.NDArray[np.float32]) -> float:
    """How well the corpus supports the query: the best passage cosine (calibrated against dev data)."""
    if not evidence:
        return 0.0
    return max(float(e.passage_vector @ query_vector) for e in evidence)


class ExtractiveComposer:
    """Picks answering sentences from the evidence, cites each to its guideline, groups key points by section."""

    name = "extractive"

    def __init__(self, settings: ComposeSettings) -> None:
        self.settings = settings
        self.weights = weight_vector(settings.weights)
        self.lead_weights = weight_vector(settings.lead_weights)

    def compose(self, request: ComposeRequest) -> Composition:
        """Compose from on-topic sentences, the ask's answer first; abstain when no sentence fits."""
        question, query_vector, evidence = request.question, request.query_vector, request.evidence
        audience, analysis = request.audience, request.analysis
        s = self.settings
        confidence = confidence_of(evidence, query_vector)
        pool = candidates(question, query_vector, evidence, audience, analysis, s.min_sentence_score,
                          self.weights)
        picked = self._select(pool, s.summary_sentences + s.key_points)
        if not picked:
            topics = list(OrderedDict.fromkeys(e.document.title for e in evidence))[:5]
            return Composition([], [], [], confidence, True, topics)
        lead = self._lead(s.summary_sentences, pool, audience,
                          strict=bool(analysis and analysis.ask.value == "interaction"))
        # The lead's candidates are rescored copies: a sentence is the same one by its evidence and index.
        keys = {(id(c.evidence), c.index) for c in lead}
        rest = [c for c in picked if (id(c.evidence), c.index) not in keys]

        book = ReferenceBook()

        def cite(c: Candidate) -> CitedSentence:
            return CitedSentence(text=c.text, citations=(book.cite(c.evidence, c.index),), score=round(c.score, 4))

        summary = [cite(c) for c in lead]
        groups: OrderedDict[str, list[Candidate]] = OrderedDict()
        for c in sorted(rest, key=lambda c: -c.score):
            groups.setdefault(c.section, []).append(c)
        key_points = []
        for heading, items in groups.items():
            ordered = sorted(items, key=lambda c: (c.evidence.chunk.doc_id, c.evidence.chunk.start + c.index))
            key_points.append(KeyPoint(heading=heading, items=tuple(cite(c) for c in ordered)))
        return Composition(summary, key_points, book.references, confidence, False, [])

    def stream(self, request: ComposeRequest) -> Iterator[SentenceEvent | Composition]:
        """Composes at once (it is cheap), then hands out the sentences."""
        composition = self.compose(request)
        yield from events_of(composition)
        yield composition

    @staticmethod
    def _select(candidates: list[Candidate], n: int, lam: float = 0.75) -> list[Candidate]:
        """Maximal marginal relevance over sentence vectors: relevant and not repetitive."""
        pool = sorted(candidates, key=lambda c: -c.score)[: n * 4]
        chosen: list[Candidate] = []
        while pool and len(chosen) < n:
            if chosen:
                chosen_vecs = np.stack([c.vector for c in chosen])
                best = max(pool, key=lambda c: lam * c.score - (1 - lam) * float((chosen_vecs @ c.vector).max()))
            else:
                best = pool[0]
            pool.remove(best)
            if chosen and float((np.stack([c.vector for c in chosen]) @ best.vector).max()) > 0.92:
                continue
            chosen.append(best)
        return chosen

    def _lead(self, n: int, pool: list[Candidate], audience: Audience = "clinician",
              strict: bool = False) -> list[Candidate]:
        """Lead sentences, ordered by the lead's own weights: the best first, then the next best not repeating
        one already in, at most two per section. Sentences about the guideline itself (its scope, grading) never
        lead a clinical answer."""
        # An interaction's lead is about both sides of it, every sentence ("alcohol with metronidazole"); other
        # leads prefer sentences about all of the question's subjects through the coverage weight.
        full = strict and any(c.feature("coverage") >= 1.0 for c in pool)
        ranked = sorted((c for c in scored(pool, self.lead_weights)
                         if not c.about_guideline and (not full or c.feature("coverage") >= 1.0)),
                        key=lambda c: -c.score)
        lead: list[Candidate] = []
        per_section: dict[str, int] = {}
        for c in ranked:
            if len(lead) == n:
                break
            if per_section.get(c.section, 0) >= 2:
                continue
            if lead and float((np.stack([x.vector for x in lead]) @ c.vector).max()) > 0.92:
                continue
            lead.append(c)
            per_section[c.section] = per_section.get(c.section, 0) + 1
        if not lead:
            return []
        first = lead[0]
        # Reading order: the reader's documents first, then by their best sentence, each document's sentences in
        # text order.
        doc_rank: dict[str, int] = {}
        for c in sorted(lead, key=lambda c: c.evidence.document.audience != audience):
            doc_rank.setdefault(c.evidence.document.id, len(doc_rank))
        rest = sorted(
            lead[1:],
            key=lambda c: (
                doc_rank[c.evidence.document.id],
                c.evidence.chunk.start + c.evidence.chunk.sentences[c.index].start,
            ),
        )
        return [first, *rest]
