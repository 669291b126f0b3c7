"""Candidate sentences of an extractive answer and their features.

Each on-topic evidence sentence gets a small vector of named features (its cosine to the question, how many
question words it uses, whether it answers the kind of ask...). The composer scores sentences with a linear
model over these features: one weight vector picks the answer's sentences, another orders the lead. Both are
settings (`compose.weights`, `compose.lead_weights`; docs/evaluation.md says how they were checked).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from service.ages import age_fit, question_age
from service.asks import ASK_EVIDENCE
from service.models import Audience, Evidence
from service.scope import is_note
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
# "For severe attacks, ..." / "If ..., ...": conditional statements.
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

# Features of a sentence, in vector order. Per sentence: sim (cosine to the question), dense and section (its
# passage's fit), recommends, dose, reader (written for this reader), long (words past 18, for patients),
# superseded, meta (a section about the guideline itself), opening (near its section's heading), lexical
# (IDF-weighted share of question words), names (names a subject), answers (answers the kind of ask),
# population, age (+1 holds the asked age, -1 only other ages), named (the guideline the question names),
# central (closeness to the other strong sentences).
# For the lead only: conditional ("If ..., "), coverage (share of the question's subjects it is about),
# guideline_only (about the guideline in a clinical question).
FEATURES = ("sim", "dense", "section", "recommends", "dose", "reader", "long", "superseded", "meta", "opening",
            "lexical", "names", "answers", "population", "age", "named", "central", "conditional", "coverage",
            "guideline_only")
_AT = {name: i for i, name in enumerate(FEATURES)}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One evidence sentence that may enter the answer."""

    evidence: Evidence
    index: int  # sentence index in the chunk
    text: str
    vector: npt.NDArray[np.float32]
    features: npt.NDArray[np.float64]
    score: float = 0.0
    subject_hits: int = 0  # how many of the question's subjects the sentence (or its document) is about

    @property
    def section(self) -> str:
        return self.evidence.chunk.section or self.evidence.document.title

    def feature(self, name: str) -> float:
        return float(self.features[_AT[name]])

    @property
    def answers_ask(self) -> bool:
        return self.feature("answers") > 0

    @property
    def about_guideline(self) -> bool:
        return self.feature("guideline_only") > 0

    @property
    def lexical(self) -> float:
        return self.feature("lexical")


def weight_vector(weights: Mapping[str, float]) -> npt.NDArray[np.float64]:
    """A weight per feature (missing ones are 0); unknown names are an error."""
    unknown = set(weights) - set(FEATURES)
    if unknown:
        raise ValueError(f"unknown sentence features: {', '.join(sorted(unknown))}")
    return np.array([float(weights.get(name, 0.0)) for name in FEATURES])


def _offset_in_section(ev: Evidence, sentence: int) -> int:
    """Characters between the section heading and a sentence: digests state the key point of a section first."""
    text = ev.document.text
    start = ev.chunk.start + ev.chunk.sentences[sentence].start
    heading = text.rfind("\n#", 0, start)
    if heading < 0:
        return start
    line_end = text.find("\n", heading + 1)
    return max(0, start - line_end)


def candidates(question: str, qv: npt.NDArray[np.float32], evidence: Sequence[Evidence], audience: Audience,
               analysis: QueryAnalysis | None, min_similarity: float,
               select: npt.NDArray[np.float64]) -> list[Candidate]:
    """Every distinct, on-topic evidence sentence above the similarity floor, with its features, scored with
    these weights."""
    seen: set[str] = set()
    out: list[Candidate] = []
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
    named_docs = analysis.named_docs if analysis else frozenset()
    for ev in evidence:
        meta = not meta_ok and bool(_META_SECTION.search(ev.chunk.section))
        sims = ev.sentence_vectors @ qv
        section_stems = set(stems_of(ev.chunk.section))
        for i, text in enumerate(ev.chunk.sentence_texts()):
            key = " ".join(text.casefold().split())
            words = len(_WORD.findall(text))
            if key in seen or words < 4 or is_note(ev.chunk.section, text):
                continue
            seen.add(key)
            sim = float(sims[i])
            if sim < min_similarity:
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
            present = set(stems) | section_stems
            # A subject is present where its document or a synonym of it is.
            for m, on in zip(subjects, about, strict=True):
                if on:
                    present.update(subject_stems[m.text])
            context = f"{ev.chunk.section}: {text}"
            values = {
                "sim": sim, "dense": ev.dense, "section": ev.section,
                "recommends": float(bool(_RECOMMENDS.search(text))), "dose": float(bool(_DOSE.search(text))),
                "reader": float(ev.document.audience == audience),
                "long": max(0, words - 18) / 10 if audience == "patient" else 0.0,
                "superseded": float(bool(ev.superseded_by)), "meta": float(meta),
                "opening": max(0.0, 1.0 - _offset_in_section(ev, i) / 500),
                "lexical": sum(w for c, w in weights.items() if c in present) / total,
                "names": float(any(mentions_any(stems, m.term.keys) for m in subjects)),
                "answers": float(bool(cue and cue.search(text))),
                "population": float(bool(populations and any(p.search(context) for p in populations))),
                "age": age_fit(age, context), "named": float(ev.document.id in named_docs),
                "conditional": float(bool(_CONDITIONAL.match(text))),
                "guideline_only": float(meta and clinical),
            }
            features = np.array([values.get(name, 0.0) for name in FEATURES])
            out.append(Candidate(ev, i, text, ev.sentence_vectors[i], features, subject_hits=hits))
    return scored(_with_context(out, select), select)


def _with_context(out: list[Candidate], weights: npt.NDArray[np.float64]) -> list[Candidate]:
    """Fill the features that depend on the other candidates: coverage and centrality."""
    if not out:
        return out
    most = max(c.subject_hits for c in out) or 1
    coverage, central = _AT["coverage"], _AT["central"]
    for c in out:
        c.features[coverage] = c.subject_hits / most
    if len(out) > 1:
        # Centrality (LexRank-like): sentences close to the other strong candidates carry the answer's core.
        vectors = np.stack([c.vector for c in out])
        top = np.argsort([-(c.features @ weights) for c in out])[:20]
        centrality = (vectors @ vectors[top].T).mean(axis=1)
        for j, c in enumerate(out):
            c.features[central] = float(centrality[j])
    return out


def scored(items: Sequence[Candidate], weights: npt.NDArray[np.float64]) -> list[Candidate]:
    """The candidates with their linear score under these weights."""
    return [Candidate(c.evidence, c.index, c.text, c.vector, c.features, float(c.features @ weights),
                      c.subject_hits) for c in items]
