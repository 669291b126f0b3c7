"""Sentence-level verification: is a generated sentence supported by the passages it cites?

One verifier for the LLM composer, reviewer edits and `medcite eval`. A sentence is supported when it cites a
passage that exists, every number with its unit appears in the cited passages, its content words and clinical
entities are covered by them, it is close in meaning to a cited sentence, its negation matches that sentence,
and (when an NLI model folder is configured) that model finds it entailed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from medcite.config import VerifySettings
from service.quantities import unsupported_quantities
from service.understanding import POPULATIONS, STOP
from service.vocabulary import Vocabulary, mentions_any, stems_of

if TYPE_CHECKING:
    from ingest import Embedder
    from service.rerank import PairScorer

# Cues that turn a statement around. "avoid", "contraindicated" and "recommends against" count: "avoid X" says
# "do not use X"; "vaccination against meningococci" does not.
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|cannot|can't|don't|doesn't|shouldn't|isn't|aren't|won't|without|avoid\w*|"
    r"contraindicat\w*|(?:recommend\w*|advis\w*|suggest\w*|recommendation|decid\w*|caution\w*)\s+against|unsafe|"
    r"stop(?:ped)?|discontinu\w*|withh[oe]ld\w*|insufficient|lack\w*)\b",
    re.IGNORECASE,
)
# Claims of strength a sentence may only make when its evidence does.
_STRENGTH = re.compile(r"\b(?:strong(?:ly)?|must|always|required?|mandatory|essential|high[- ](?:quality|certainty)|"
                       r"grade 1a|class (?:1|i)\b)", re.IGNORECASE)
# Who a statement is about: a sentence naming one of these needs evidence naming it too.
_GROUPS = {**{name: rx for name, rx in POPULATIONS.items()},
           "adults": re.compile(r"\badults?\b", re.IGNORECASE),
           "men": re.compile(r"\b(?:men|males?|boys?)\b", re.IGNORECASE),
           "women": re.compile(r"\b(?:women|females?|girls?)\b", re.IGNORECASE)}
_GENERIC = frozenset(stems_of(
    "recommend recommended recommends recommendation guideline guidelines suggest suggests patient patients "
    "people person adult adults use used using given give treat treated treatment should may can also include "
    "including includes based according advise advised advises state states say says offer offered consider "
    "considered option options first line per day daily"
))
MAX_TERM_TOKENS = 5


@dataclass(frozen=True, slots=True)
class Passage:
    """A numbered passage as the verifier sees it: its sentences and the document it comes from."""

    doc_id: str
    sentences: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True, slots=True)
class Check:
    """The verdict on one sentence, with the measurements behind it."""

    supported: bool
    reason: str  # "" when supported
    citations: tuple[int, ...]  # the in-range citations kept
    out_of_range: tuple[int, ...] = ()
    coverage: float = 0.0
    similarity: float = 0.0
    best: tuple[int, int] | None = None  # (passage number, sentence index) closest to the sentence
    supports: tuple[tuple[int, int], ...] = ()  # per cited passage: (passage number, its closest sentence)
    entailment: float | None = None
    missing: tuple[str, ...] = field(default=())


def needed_coverage(similarity: float, settings: VerifySettings) -> float:
    """The content-word coverage a sentence needs: half when it is very close to a cited sentence."""
    return settings.min_coverage / 2 if similarity >= settings.strong_similarity else settings.min_coverage


def within_thresholds(check: Check, settings: VerifySettings) -> bool:
    """Whether a check's coverage and similarity pass these thresholds (replays calibration without models)."""
    return check.coverage >= needed_coverage(check.similarity, settings) and check.similarity >= settings.min_similarity


def polarity(text: str) -> bool:
    """True when a sentence carries a negation ("not", "avoid", "against"...). Presence, not parity: guideline
    sentences repeat their negation ("recommends against ... (strong recommendation against)")."""
    return bool(_NEGATION.search(text))


class Verifier:
    """Checks generated sentences against the passages they cite; thresholds come from VerifySettings."""

    def __init__(self, settings: VerifySettings, embedder: Embedder, vocabulary: Vocabulary | None = None,
                 nli: PairScorer | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.vocabulary = vocabulary
        self.nli = nli

    def _weight(self, stem: str) -> float:
        return self.vocabulary.idf(stem) if self.vocabulary else 1.0

    def _entities(self, stems: Sequence[str]) -> list[tuple[str, set[tuple[str, ...]]]]:
        """Drugs and conditions of the corpus's vocabulary a text names: (name, spellings on its topic)."""
        if self.vocabulary is None:
            return []
        found: dict[str, set[tuple[str, ...]]] = {}
        i = 0
        while i < len(stems):
            for n in range(min(MAX_TERM_TOKENS, len(stems) - i), 0, -1):
                key = tuple(stems[i:i + n])
                term = self.vocabulary.by_key.get(key)
                if term is None or all(k in STOP or k in _GENERIC for k in key) or (n == 1 and len(key[0]) <= 3):
                    continue
                found.setdefault(term.name, term.on_topic_keys)
                i += n - 1
                break
            i += 1
        return list(found.items())

    def bind(self, passages: Sequence[Passage]) -> BoundVerifier:
        """A verifier for one answer's numbered passages (their sentences are embedded once, on first use)."""
        return BoundVerifier(self, passages)

    def check_all(self, sentences: Sequence[tuple[str, Sequence[int]]], passages: Sequence[Passage]) -> list[Check]:
        """Verify (text, citation numbers) pairs against 1-based numbered passages."""
        return self.bind(passages).check_all(sentences)

    def check(self, text: str, citations: Sequence[int], passages: Sequence[Passage]) -> Check:
        """Verify one sentence."""
        return self.bind(passages).check(text, citations)

    def judge(self, text: str, citations: Sequence[int], passages: Sequence[Passage],
               vector: npt.NDArray[np.float32], pooled: npt.NDArray[np.float32],
               where: dict[tuple[int, int], int]) -> Check:
        s = self.settings
        kept = tuple(dict.fromkeys(c for c in citations if 1 <= c <= len(passages)))
        out = tuple(c for c in citations if not 1 <= c <= len(passages))
        if not kept:
            reason = "cites no passage that exists" if out else "cites no passage"
            return Check(False, reason, (), out)
        cited = [passages[c - 1] for c in kept]
        evidence = " ".join(p.text for p in cited)
        # Closest sentence of each cited passage.
        supports: list[tuple[int, int]] = []
        best: tuple[int, int] | None = None
        similarity = -1.0
        for c in kept:
            sims = [(float(pooled[where[(c - 1, j)]] @ vector), j) for j in range(len(passages[c - 1].sentences))]
            if not sims:
                continue
            sim, j = max(sims)
            supports.append((c, j))
            if sim > similarity:
                similarity, best = sim, (c, j)
        base = Check(False, "", kept, out, similarity=round(similarity, 4), best=best, supports=tuple(supports))
        missing_numbers = unsupported_quantities(text, evidence)
        if missing_numbers:
            return _with(base, f"states {', '.join(missing_numbers)}, which the cited passages do not",
                         missing=tuple(missing_numbers))
        stems = stems_of(text)
        evidence_stems = stems_of(evidence)
        present = set(evidence_stems)
        content = [w for w in dict.fromkeys(stems) if w not in STOP and w not in _GENERIC and not w.isdigit()]
        total = sum(self._weight(w) for w in content) or 1.0
        absent = [w for w in content if w not in present]
        coverage = 1.0 - sum(self._weight(w) for w in absent) / total
        base = _with(base, "", coverage=round(coverage, 4))
        groups = [g for g, rx in _GROUPS.items() if rx.search(text) and not rx.search(evidence)]
        if groups:
            return _with(base, f"is about {', '.join(groups)}, which the cited passages are not", missing=tuple(groups))
        stronger = [m.group(0) for m in _STRENGTH.finditer(text) if not re.search(re.escape(m.group(0)[:6]), evidence,
                                                                                   re.IGNORECASE)]
        if stronger:
            return _with(base, f"says {', '.join(stronger)}, which the cited passages do not", missing=tuple(stronger))
        unnamed = [name for name, keys in self._entities(stems) if not mentions_any(evidence_stems, keys)]
        if unnamed:
            return _with(base, f"names {', '.join(unnamed)}, which the cited passages do not", missing=tuple(unnamed))
        if coverage < needed_coverage(similarity, s):
            return _with(base, f"its words are not in the cited passages ({', '.join(absent[:5])})",
                         missing=tuple(absent))
        if similarity < s.min_similarity:
            return _with(base, f"no cited sentence says this (closest similarity {similarity:.2f})")
        closest = passages[best[0] - 1].sentences[best[1]] if best else ""
        if s.check_negation and best is not None and polarity(text) != polarity(closest):
            return _with(base, "its negation differs from the cited passage")
        if self.nli is not None:
            premise = " ".join(passages[c - 1].sentences[j] for c, j in supports)
            entailment = float(self.nli.scores(text, [premise])[0])
            base = _with(base, "", entailment=round(entailment, 4))
            if entailment < s.nli_min_entailment:
                return _with(base, f"the NLI model finds it not entailed ({entailment:.2f})")
        return _with(base, "", supported=True)


class BoundVerifier:
    """The verifier over one set of numbered passages."""

    def __init__(self, verifier: Verifier, passages: Sequence[Passage]) -> None:
        self.verifier = verifier
        self.passages = list(passages)
        self._pool = [(p, j) for p in range(len(self.passages)) for j in range(len(self.passages[p].sentences))]
        self._where = {pj: i for i, pj in enumerate(self._pool)}
        self._vectors: npt.NDArray[np.float32] | None = None

    def _pooled(self) -> npt.NDArray[np.float32]:
        if self._vectors is None:
            self._vectors = self.verifier.embedder.embed_texts([self.passages[p].sentences[j] for p, j in self._pool])
        return self._vectors

    def check_all(self, sentences: Sequence[tuple[str, Sequence[int]]]) -> list[Check]:
        """Verify (text, citation numbers) pairs, one embedding batch for the sentences."""
        if not sentences:
            return []
        pooled = self._pooled()
        own = self.verifier.embedder.embed_texts([t for t, _ in sentences])
        return [self.verifier.judge(text, cites, self.passages, own[k], pooled, self._where)
                for k, (text, cites) in enumerate(sentences)]

    def check(self, text: str, citations: Sequence[int]) -> Check:
        """Verify one sentence."""
        return self.check_all([(text, citations)])[0]


def _with(check: Check, reason: str, **changes: object) -> Check:
    from dataclasses import replace

    return replace(check, reason=reason, **changes)  # type: ignore[arg-type]
