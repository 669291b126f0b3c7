"""How well the sentence verifier agrees with hand labels, and its thresholds chosen on the dev half.

`eval/data/verifier_pairs.jsonl` holds (generated sentence, cited passage, label) pairs written by the team:
paraphrases and unit variants that are supported; changed numbers, units, negations, strengths, drugs,
populations and invented claims that are not.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest import Document, Embedder, load_paths, split_sentences
from medcite.config import VerifySettings
from medcite.errors import CorpusError
from service.verify import Check, Passage, Verifier, within_thresholds
from service.vocabulary import Vocabulary

PAIRS = Path(__file__).parent / "data" / "verifier_pairs.jsonl"


@dataclass(frozen=True, slots=True)
class LabelledPair:
    id: str
    doc_id: str
    passage: str
    sentence: str
    supported: bool
    kind: str
    split: str


@dataclass(slots=True)
class Agreement:
    """Verifier decisions against the labels."""

    pairs: int = 0
    agree: int = 0
    caught: int = 0  # unsupported pairs the verifier rejected
    unsupported: int = 0
    passed: int = 0  # supported pairs the verifier accepted
    supported: int = 0
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind → [agree, pairs]
    disagreements: list[tuple[str, str]] = field(default_factory=list)  # (pair id, verifier reason or "passed")

    @property
    def accuracy(self) -> float:
        return self.agree / self.pairs if self.pairs else 0.0

    @property
    def unsupported_recall(self) -> float:
        """Share of unsupported sentences caught."""
        return self.caught / self.unsupported if self.unsupported else 0.0

    @property
    def supported_recall(self) -> float:
        """Share of supported sentences let through."""
        return self.passed / self.supported if self.supported else 0.0

    def as_dict(self) -> dict[str, object]:
        return {"pairs": self.pairs, "accuracy": round(self.accuracy, 4),
                "unsupported_caught": round(self.unsupported_recall, 4),
                "supported_passed": round(self.supported_recall, 4),
                "by_kind": {k: round(a / n, 4) for k, (a, n) in sorted(self.by_kind.items())}}


def load_pairs(path: Path = PAIRS) -> list[LabelledPair]:
    """The labelled pairs; a CorpusError names the first bad line."""
    pairs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            pairs.append(LabelledPair(row["id"], row["doc_id"], row["passage"], row["sentence"],
                                      row["label"] == "supported", row["kind"], row.get("split", "dev")))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path}:{n}: not a labelled pair ({exc})") from exc
    return pairs


def corpus_vocabulary(corpus: Path) -> Vocabulary:
    """The vocabulary of a guideline corpus folder (IDF weights and the terms the verifier checks)."""
    return Vocabulary(d for d in load_paths([corpus]) if isinstance(d, Document))


def _passage(pair: LabelledPair) -> Passage:
    """A labelled passage split into sentences as ingest splits production passages."""
    text = pair.passage
    return Passage(pair.doc_id, tuple(text[s.start:s.end] for s in split_sentences(text, 0, len(text))))


def verify_pairs(verifier: Verifier, pairs: Sequence[LabelledPair]) -> list[Check]:
    """The verifier's check of each pair's sentence citing its passage as [1]."""
    return [verifier.check(p.sentence, [1], [_passage(p)]) for p in pairs]


def agreement(pairs: Sequence[LabelledPair], checks: Sequence[Check]) -> Agreement:
    """Tally decisions against labels."""
    out = Agreement()
    kinds: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for pair, check in zip(pairs, checks, strict=True):
        ok = check.supported == pair.supported
        out.pairs += 1
        out.agree += ok
        kinds[pair.kind][0] += ok
        kinds[pair.kind][1] += 1
        if pair.supported:
            out.supported += 1
            out.passed += check.supported
        else:
            out.unsupported += 1
            out.caught += not check.supported
        if not ok:
            out.disagreements.append((pair.id, check.reason or "passed"))
    out.by_kind = dict(kinds)
    return out


def calibrate(embedder: Embedder, vocabulary: Vocabulary, pairs: Iterable[LabelledPair],
              base: VerifySettings | None = None) -> tuple[VerifySettings, Agreement]:
    """The coverage and similarity thresholds with the best dev accuracy (ties: more unsupported caught).

    Checks run once with the thresholds open; the threshold-free checks (numbers, entities, negation) keep their
    verdict and the thresholds are replayed over the recorded coverage and similarity."""
    dev = [p for p in pairs if p.split == "dev"]
    base = base or VerifySettings()
    open_ = base.model_copy(update={"min_coverage": 0.0, "min_similarity": -1.0})
    raw = verify_pairs(Verifier(open_, embedder, vocabulary), dev)
    best: tuple[float, float, VerifySettings, Agreement] | None = None
    for cov, sim, strong in itertools.product([x / 20 for x in range(4, 19)], [x / 40 for x in range(12, 33)],
                                              (0.75, 0.8, 0.85, 0.9, 1.0)):
        settings = base.model_copy(update={"min_coverage": cov, "min_similarity": sim, "strong_similarity": strong})
        checks = [replace(c, supported=c.supported and within_thresholds(c, settings)) for c in raw]
        result = agreement(dev, checks)
        key = (result.accuracy, result.unsupported_recall)
        if best is None or key > (best[0], best[1]):
            best = (*key, settings, result)
    assert best is not None
    return best[2], best[3]
