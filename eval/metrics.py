"""Metric computations: retrieval (ranx), ROUGE-L, statement recall / contradiction, citations, decisions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from eval.text import negated, normalise, overlap, split_sentences
from service.verify import Passage

if TYPE_CHECKING:
    from ingest import Document, Embedder
    from service import Answer
    from service.verify import Verifier

RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "recall@20", "mrr", "ndcg@10")
# Cosine of two independently encoded sentence vectors at or above which they state the same thing.
# Calibrated with `medcite eval support` on PubMedQA provenance pairs (fitted 0.536); see docs/evaluation.md.
SUPPORT_COSINE = 0.54
# A negation flip only counts as a contradiction between near-identical claims: cosine and content-word
# overlap both high (at SUPPORT_COSINE alone, any negated sentence about the same disease was flagged).
CONTRADICTION_COSINE = 0.75
CONTRADICTION_OVERLAP = 0.6
_MARKER = re.compile(r"\[(\d+)\]")


def first_occurrence(doc_ids: Iterable[str]) -> list[str]:
    """Documents in the order their first chunk appears."""
    return list(dict.fromkeys(doc_ids))


def retrieval_scores(rankings: Mapping[str, Sequence[str]], gold: Mapping[str, Iterable[str]]
                     ) -> dict[str, dict[str, float]]:
    """Per-question recall@1/5/10/20, MRR and nDCG@10 computed by ranx (binary relevance)."""
    import warnings

    from ranx import Qrels, Run, evaluate  # numba-compiled: imported only when scoring

    qids = [q for q in rankings if set(gold.get(q, ()))]
    if not qids:
        return {}
    qrels = Qrels.from_dict({q: {d: 1 for d in gold[q]} for q in qids})
    # ranx ranks by score; a strictly decreasing score keeps the retriever's order.
    run = Run.from_dict({q: {d: float(len(rankings[q]) - i) for i, d in enumerate(rankings[q])} for q in qids})
    with warnings.catch_warnings():  # numba's uint64 → int64 cast warnings say nothing about our data
        warnings.simplefilter("ignore")
        scores = evaluate(qrels, run, list(RETRIEVAL_METRICS), return_mean=False, make_comparable=True)
    order = list(qrels.keys())
    return {q: {m: float(scores[m][i]) for m in RETRIEVAL_METRICS} for i, q in enumerate(order)}


_ROUGE: object | None = None


def rouge_l(reference: str, prediction: str) -> float:
    """ROUGE-L F-measure (rouge-score, Porter stemming) of a prediction against the reference."""
    global _ROUGE
    from rouge_score import rouge_scorer

    if _ROUGE is None:
        _ROUGE = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    if not prediction.strip() or not reference.strip():
        return 0.0
    assert isinstance(_ROUGE, rouge_scorer.RougeScorer)
    return float(_ROUGE.score(reference, prediction)["rougeL"].fmeasure)


@dataclass(frozen=True, slots=True)
class StatementScores:
    """Reference statements supported by the answer, and answer sentences contradicting the reference."""

    statements: int
    supported: int
    sentences: int
    contradicted: int

    @property
    def recall(self) -> float:
        """Share of reference statements supported."""
        return self.supported / self.statements if self.statements else 0.0

    @property
    def contradiction_rate(self) -> float | None:
        """Share of answer sentences contradicting a reference statement (None without sentences)."""
        return self.contradicted / self.sentences if self.sentences else None


class StatementJudge:
    """Embedding-similarity stand-in for NLI: supported = cosine >= threshold with the same negation polarity;
    contradiction = opposite polarity with cosine and content-word overlap both high. Vectors are cached, so
    systems sharing sentences pay once."""

    def __init__(self, embedder: Embedder, threshold: float = SUPPORT_COSINE,
                 contradiction: float = CONTRADICTION_COSINE, cache_size: int = 50_000) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.contradiction = contradiction
        self._cache: dict[str, np.ndarray] = {}
        self._cache_size = cache_size

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of texts, encoded once each."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > self._cache_size:
                self._cache.clear()
            for text, vec in zip(missing, self.embedder.embed_texts(missing), strict=True):
                self._cache[text] = vec
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def similarity(self, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
        """Cosine matrix, rows = left, columns = right."""
        if not left or not right:
            return np.zeros((len(left), len(right)), dtype=np.float32)
        sims: np.ndarray = self.vectors(left) @ self.vectors(right).T
        return sims

    def judge(self, statements: Sequence[str], sentences: Sequence[str]) -> StatementScores:
        """Score answer sentences against reference statements."""
        self.vectors([*statements, *sentences])  # one encode call for both sides
        sims = self.similarity(statements, sentences)
        polarity_s = np.asarray([negated(t) for t in statements], dtype=bool)
        polarity_a = np.asarray([negated(t) for t in sentences], dtype=bool)
        same_claim = sims >= self.threshold
        agrees = polarity_s[:, None] == polarity_a[None, :]
        supported = int((same_claim & agrees).any(axis=1).sum()) if sentences else 0
        contradicted = 0
        if statements and sentences:
            best = sims.argmax(axis=0)  # each answer sentence against its closest reference statement
            for col, sentence in enumerate(sentences):
                row = int(best[col])
                if not agrees[row, col] and self._contradicts(float(sims[row, col]), statements[row], sentence):
                    contradicted += 1
        return StatementScores(len(statements), supported, len(sentences), contradicted)

    def pair(self, premise: str, hypothesis: str) -> str:
        """Label one pair as entailment / contradiction / neutral (for measuring agreement)."""
        cos = float(self.similarity([premise], [hypothesis])[0, 0])
        if negated(premise) == negated(hypothesis):
            return "entailment" if cos >= self.threshold else "neutral"
        return "contradiction" if self._contradicts(cos, premise, hypothesis) else "neutral"

    def _contradicts(self, cos: float, left: str, right: str) -> bool:
        """Opposite polarity is assumed by the caller; the claims must be near-identical."""
        return cos >= self.contradiction and overlap(left, right) >= CONTRADICTION_OVERLAP


@dataclass(frozen=True, slots=True)
class CitationScores:
    """Counts behind citation validity, support and coverage of one answer."""

    citations: int  # [n] markers
    valid: int  # markers pointing at an existing reference
    sentences: int
    cited: int  # sentences with at least one marker
    supported: int  # cited sentences quoted exactly by a cited reference's span, itself exact in the source


def citation_scores(answer: Answer, documents: Mapping[str, Document],
                    verifier: Verifier | None = None) -> CitationScores:
    """Validity, support and coverage counts of an answer.

    Support is exact-quote containment (extractive, ALCE-style) for extractive answers. Generated sentences are
    judged by the sentence verifier against the quoted spans of the references they cite: containment would be
    meaningless for them."""
    numbers = {r.number: r for r in answer.references}
    sentences = answer.all_sentences()
    # Markers as the reader sees them: the rendered summary, plus the key-point items' citation numbers.
    markers = [int(m) for m in _MARKER.findall(answer.summary)]
    markers += [n for kp in answer.key_points for item in kp.items for n in item.citations]
    valid = sum(1 for n in markers if n in numbers)
    generated = verifier is not None and answer.composer == "llm"
    cited = supported = 0
    for sentence in sentences:
        if not sentence.citations:
            continue
        cited += 1
        if generated and verifier is not None:
            refs = [numbers[n] for n in sentence.citations if n in numbers]
            passages = [Passage(r.doc_id, tuple(sp.text for sp in r.spans)) for r in refs]
            if passages and verifier.check(sentence.text, list(range(1, len(passages) + 1)), passages).supported:
                supported += 1
            continue
        text = normalise(sentence.text)
        for n in sentence.citations:
            ref = numbers.get(n)
            doc = documents.get(ref.doc_id) if ref else None
            if ref is None or doc is None:
                continue
            if any(text in normalise(span.text) and doc.text[span.start:span.end] == span.text for span in ref.spans):
                supported += 1
                break
    return CitationScores(len(markers), valid, len(sentences), cited, supported)


def decide(answer: Answer) -> str:
    """Transparent yes/no/maybe rule for an extractive answer: abstained → maybe, negated lead → no, else yes."""
    if answer.abstained or not answer.summary_sentences:
        return "maybe"
    return "no" if negated(answer.summary_sentences[0].text) else "yes"


def answer_text(answer: Answer) -> str:
    """The answer's sentences (summary then key points) without markers: what ROUGE and statements see."""
    return " ".join(s.text for s in answer.all_sentences())


def reference_statements(reference: str) -> list[str]:
    """The gold statements of a reference answer: its sentences."""
    return split_sentences(reference)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), or 0 for no values."""
    return float(np.percentile(values, q)) if values else 0.0
