"""Composition: the Composer protocol and the default extractive composer (no LLM, no model call).

Sentence vectors were computed at ingest, so composing costs only vector arithmetic over the evidence.
"""

from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from medcite.config import ComposeSettings
from service.ages import age_fit, question_age
from service.answerability import ASK_EVIDENCE
from service.models import (
    Audience,
    CitedSentence,
    Evidence,
    KeyPoint,
    Reference,
    Verification,
)
from service.references import ReferenceBook
from service.understanding import POPULATIONS, QueryAnalysis
from service.vocabulary import mentions_any, stems_of

_WORD = re.compile(r"\w+")
# Sections about the guideline itself rather than the patient; they answer only questions that ask about them.
_META_SECTION = re.compile(
    r"scope|population|what changed|previous version|strength of recommendation|grading|about th|background|"
    r"methods|how to use|key (?:terms|definitions)",
    re.IGNORECASE,
)
# Guideline answers are recommendations with specifics: favour sentences that state one or give a dose.
_RECOMMENDS = re.compile(
    r"\b(?:recommend\w*|first[- ]line|second[- ]line|preferred|should|is indicated|are indicated|approved|"
    r"treatment of choice|suggest\w*)\b",
    re.IGNORECASE,
)
_DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:mg|g|mcg|µg|micrograms?|units?|ml|mL|mmHg|%|weeks?|days?|months?)\b")
# "For severe attacks, ..." / "If ..., ...": conditional statements belong in key points, not the lead.
_CONDITIONAL = re.compile(
    r"^(?:for|if|in|when|where|among|although|unless|after|before|once)\b[^,]{3,80},", re.IGNORECASE
)
# Asks about what to do for a patient: their lead never quotes the guideline's scope or grading sections.
_CLINICAL_ASKS = frozenset({"treatment", "first_line", "dose", "duration", "time_window", "monitoring",
                            "pregnancy", "interaction", "prevention"})
_META_QUESTION = re.compile(
    r"chang|new|update|differ|scope|grade|grading|strength|evidence|guideline|recommendation|who is|apply",
    re.IGNORECASE,
)


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


@dataclass(frozen=True, slots=True)
class _Candidate:
    evidence: Evidence
    index: int  # sentence index in the chunk
    text: str
    vector: npt.NDArray[np.float32]
    similarity: float
    score: float
    answers_ask: bool = False
    subject_hits: int = 0  # how many of the question's subjects the sentence (or its document) is about
    about_guideline: bool = False  # from a section about the guideline itself (scope, grading, changes)
    lexical: float = 0.0  # IDF-weighted share of the question's words in the sentence and its heading

    @property
    def section(self) -> str:
        return self.evidence.chunk.section or self.evidence.document.title


def confidence_of(evidence: list[Evidence], query_vector: npt.NDArray[np.float32]) -> float:
    """How well the corpus supports the query: the best passage cosine (calibrated against dev data)."""
    if not evidence:
        return 0.0
    return max(float(e.passage_vector @ query_vector) for e in evidence)


def _offset_in_section(ev: Evidence, sentence: int) -> int:
    """Characters between the section heading and a sentence: digests state the key point of a section first."""
    text = ev.document.text
    start = ev.chunk.start + ev.chunk.sentences[sentence].start
    heading = text.rfind("\n#", 0, start)
    if heading < 0:
        return start
    line_end = text.find("\n", heading + 1)
    return max(0, start - line_end)


class ExtractiveComposer:
    """Picks answering sentences from the evidence, cites each to its guideline, groups key points by section."""

    name = "extractive"

    def __init__(self, settings: ComposeSettings) -> None:
        self.settings = settings

    def compose(self, request: ComposeRequest) -> Composition:
        """Compose from on-topic sentences, the ask's answer first; abstain when no sentence fits."""
        question, query_vector, evidence = request.question, request.query_vector, request.evidence
        audience, analysis = request.audience, request.analysis
        s = self.settings
        confidence = confidence_of(evidence, query_vector)
        candidates = self._candidates(question, query_vector, evidence, audience, analysis)
        picked = self._select(candidates, s.summary_sentences + s.key_points)
        if not picked:
            topics = list(OrderedDict.fromkeys(e.document.title for e in evidence))[:5]
            return Composition([], [], [], confidence, True, topics)
        lead = self._lead(picked, s.summary_sentences, candidates, s.first_lexical_weight, audience)
        rest = [c for c in picked if c not in lead]

        book = ReferenceBook()

        def cite(c: _Candidate) -> CitedSentence:
            return CitedSentence(text=c.text, citations=(book.cite(c.evidence, c.index),), score=round(c.score, 4))

        summary = [cite(c) for c in lead]
        groups: OrderedDict[str, list[_Candidate]] = OrderedDict()
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

    def _candidates(
        self, question: str, qv: npt.NDArray[np.float32], evidence: list[Evidence], audience: Audience,
        analysis: QueryAnalysis | None = None,
    ) -> list[_Candidate]:
        s = self.settings
        seen: set[str] = set()
        out: list[_Candidate] = []
        meta_ok = bool(_META_QUESTION.search(question))
        subjects = analysis.subjects if analysis else ()
        weights = analysis.weights if analysis else {}
        total = sum(weights.values()) or 1.0
        cue = ASK_EVIDENCE.get(analysis.ask) if analysis else None
        populations = [POPULATIONS[p] for p in analysis.populations] if analysis else []
        subject_stems = {m.text: set(stems_of(m.text)) for m in subjects}
        interaction = bool(analysis and analysis.ask.value == "interaction")
        # A question only about drugs ("how much Tylenol?") leads with sentences that name them, not with the
        # other drugs of the same guideline.
        only_drugs = bool(subjects) and all(m.term.kind == "drug" for m in subjects)
        clinical = bool(analysis and analysis.ask.value in _CLINICAL_ASKS)
        age = question_age(question)
        for ev in evidence:
            meta_penalty = 0.0 if meta_ok or not _META_SECTION.search(ev.chunk.section) else 0.08
            sims = ev.sentence_vectors @ qv
            section_stems = set(stems_of(ev.chunk.section))
            for i, text in enumerate(ev.chunk.sentence_texts()):
                key = " ".join(text.casefold().split())
                words = len(_WORD.findall(text))
                if key in seen or words < 4:
                    continue
                seen.add(key)
                sim = float(sims[i])
                if sim < s.min_sentence_score:
                    continue
                stems = list(stems_of(text))
                about = [m.term.about(stems, ev.document.id) for m in subjects]
                # Only sentences about the subject: named in the sentence, or from a document about it.
                if subjects and not any(about):
                    continue
                hits = sum(about)
                # In an interaction question the drug named outranks the other subjects: "alcohol with
                # metronidazole" is about metronidazole first; so in a question about drugs alone.
                if interaction:
                    hits += len(subjects) * any(m.term.kind == "drug" and mentions_any(stems, m.term.keys)
                                                for m in subjects)
                elif only_drugs:
                    hits += len(subjects) * any(mentions_any(stems, m.term.on_topic_keys) for m in subjects)
                names_subject = any(mentions_any(stems, m.term.keys) for m in subjects)
                present = set(stems) | section_stems
                # A subject is present where its document or a synonym of it is.
                for m, on in zip(subjects, about, strict=True):
                    if on:
                        present.update(subject_stems[m.text])
                lexical = sum(w for c, w in weights.items() if c in present) / total
                answers = bool(cue and cue.search(text))
                # Sentence fit, plus how well its passage answers the query (the section context).
                score = 0.55 * sim + 0.25 * ev.dense + 0.2 * ev.section
                score += 0.03 * bool(_RECOMMENDS.search(text)) + 0.03 * bool(_DOSE.search(text))
                if ev.document.audience == audience:
                    score += 0.1  # material written for this reader
                if audience == "patient":
                    score -= 0.004 * max(0, words - 18)  # plainer, shorter sentences for patients
                if ev.superseded_by:
                    score -= 0.05
                score -= meta_penalty
                score += 0.03 * max(0.0, 1.0 - _offset_in_section(ev, i) / 500)
                score += s.lexical_weight * lexical + s.subject_weight * names_subject + s.ask_weight * answers
                if populations and any(p.search(f"{ev.chunk.section} {text}") for p in populations):
                    score += s.population_weight
                score += s.age_weight * age_fit(age, f"{ev.chunk.section}: {text}")
                if analysis and ev.document.id in analysis.named_docs:
                    score += s.named_weight  # the guideline the question names ("per GINA 2018")
                out.append(_Candidate(ev, i, text, ev.sentence_vectors[i], sim, score, answers_ask=answers,
                                      subject_hits=hits, lexical=lexical,
                                      about_guideline=meta_penalty > 0 and clinical))
        if len(out) > 1:
            # Centrality (LexRank-like): sentences close to the other strong candidates carry the answer's core.
            vectors = np.stack([c.vector for c in out])
            top = np.argsort([-c.score for c in out])[:20]
            centrality = (vectors @ vectors[top].T).mean(axis=1)
            out = [dataclasses.replace(c, score=c.score + 0.3 * float(centrality[j])) for j, c in enumerate(out)]
        return out

    @staticmethod
    def _select(candidates: list[_Candidate], n: int, lam: float = 0.75) -> list[_Candidate]:
        """Maximal marginal relevance over sentence vectors: relevant and not repetitive."""
        pool = sorted(candidates, key=lambda c: -c.score)[: n * 4]
        chosen: list[_Candidate] = []
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

    @staticmethod
    def _lead(picked: list[_Candidate], n: int, candidates: list[_Candidate], lexical_weight: float,
              audience: Audience = "clinician") -> list[_Candidate]:
        """Lead sentences: the best sentence answering the ask first, then general statements before
        conditional ones, at most two per section."""

        def lead_score(c: _Candidate) -> float:
            return c.score - (0.05 if _CONDITIONAL.match(c.text) else 0.0)

        lead: list[_Candidate] = []
        per_section: dict[str, int] = {}
        # With several subjects ("anticoagulation after DVT"), lead sentences are about all of them if any are.
        most = max((c.subject_hits for c in candidates), default=0)
        # Sentences about the guideline itself (its scope, grading) never lead a clinical answer.
        answering = [c for c in candidates if c.answers_ask and c.subject_hits == most and not c.about_guideline]
        # The first sentence (and so the first reference) comes from material written for this reader when any
        # answers: a clinician's answer leads with the guideline, a patient's with its plain-language companion.
        answering = [c for c in answering if c.evidence.document.audience == audience] or answering
        first = max(answering, key=lambda c: c.score + lexical_weight * c.lexical) if answering else None
        if first is None:  # no kind of ask to answer: the best sentence leads
            first = max((c for c in picked if c.subject_hits == most and not c.about_guideline), key=lead_score,
                        default=None)
        if first is not None:
            lead.append(first)
            per_section[first.section] = 1
        for c in sorted(picked, key=lead_score, reverse=True):
            if c is first or c.subject_hits < most or c.about_guideline:
                continue
            if per_section.get(c.section, 0) < 2:
                lead.append(c)
                per_section[c.section] = per_section.get(c.section, 0) + 1
            if len(lead) == n:
                break
        # Reading order: the reader's documents first, then by their best sentence, each document's sentences in
        # text order.
        doc_rank: dict[str, int] = {}
        for c in sorted(lead, key=lambda c: c.evidence.document.audience != audience):
            doc_rank.setdefault(c.evidence.document.id, len(doc_rank))
        rest = sorted(
            (c for c in lead if c is not first),
            key=lambda c: (
                doc_rank[c.evidence.document.id],
                c.evidence.chunk.start + c.evidence.chunk.sentences[c.index].start,
            ),
        )
        return [first, *rest] if first is not None else rest
