"""Calibration: the abstention threshold (answerable vs out-of-scope confidence) and the support cosine.

`medcite eval support --gold ../shared/data/pubmedqa_dev.jsonl` measures the statement judge;
the abstention threshold is computed from eval records by `medcite eval --calibrate`.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from eval.gold import GoldSet
from eval.metrics import SUPPORT_COSINE, StatementJudge
from eval.records import QuestionResult
from eval.text import negated, split_sentences

if TYPE_CHECKING:
    from ingest import Embedder

log = logging.getLogger(__name__)
PAIRS = Path(__file__).parent / "data" / "statement_pairs.jsonl"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A decision threshold (positive when score >= threshold) and its error rates on the data it saw."""

    threshold: float
    balanced_accuracy: float
    false_negative_rate: float  # positives scored below the threshold
    false_positive_rate: float  # negatives scored at or above it
    positives: int
    negatives: int


def best_threshold(positives: Sequence[float], negatives: Sequence[float]) -> Threshold:
    """The threshold maximising balanced accuracy (midpoints between sorted distinct scores)."""
    pos, neg = np.sort(np.asarray(positives, float)), np.sort(np.asarray(negatives, float))
    if not len(pos) or not len(neg):
        raise ValueError("need both positive and negative scores")
    values = np.unique(np.concatenate([pos, neg]))
    candidates = np.concatenate([[values[0] - 1e-6], (values[:-1] + values[1:]) / 2, [values[-1] + 1e-6]])
    fnr = np.searchsorted(pos, candidates, side="left") / len(pos)
    fpr = 1 - np.searchsorted(neg, candidates, side="left") / len(neg)
    bacc = np.round(1 - (fnr + fpr) / 2, 10)  # ties go to the lowest threshold
    i = int(np.argmax(bacc))
    return Threshold(round(float(candidates[i]), 4), round(float(bacc[i]), 4), round(float(fnr[i]), 4),
                     round(float(fpr[i]), 4), len(pos), len(neg))


def apply_threshold(threshold: float, positives: Sequence[float], negatives: Sequence[float]) -> Threshold:
    """Error rates of a fixed threshold on held-out scores."""
    fnr = float(np.mean(np.asarray(positives) < threshold)) if len(positives) else 0.0
    fpr = float(np.mean(np.asarray(negatives) >= threshold)) if len(negatives) else 0.0
    return Threshold(threshold, round(1 - (fnr + fpr) / 2, 4), round(fnr, 4), round(fpr, 4),
                     len(positives), len(negatives))


def abstention_threshold(results: Sequence[QuestionResult], *, system: str = "hybrid"
                         ) -> tuple[Threshold, dict[str, Threshold]]:
    """Best abstain_threshold: answerable should be answered (confidence >= t), out-of-scope abstained.

    Returns the threshold over everything and, per set, the error rates that threshold gives there.
    """
    mine = [r for r in results if r.system == system]
    answerable = [r.confidence for r in mine if r.kind == "answerable"]
    oos = [r.confidence for r in mine if r.kind == "out_of_scope"]
    best = best_threshold(answerable, oos)
    per_set = {s: apply_threshold(best.threshold,
                                  [r.confidence for r in mine if r.set == s and r.kind == "answerable"],
                                  [r.confidence for r in mine if r.set == s and r.kind == "out_of_scope"])
               for s in dict.fromkeys(r.set for r in mine)}
    return best, per_set


@dataclass(frozen=True, slots=True)
class SupportCalibration:
    """Support cosine chosen on one half of the PubMedQA records and measured on the other half."""

    fitted: Threshold
    held_out: Threshold


def _best(judge: StatementJudge, sentence: str, candidates: list[str]) -> float:
    """Best cosine with a candidate of the same negation polarity (the judge's support rule), else -1."""
    same = [c for c in candidates if negated(c) == negated(sentence)]
    return float(judge.similarity([sentence], same).max()) if same else -1.0


def provenance_scores(gold: GoldSet, judge: StatementJudge) -> tuple[list[tuple[float, float]], list[str]]:
    """Per conclusion sentence: best same-polarity cosine with its own abstract's sentences (labelled supported)
    and with the sentences of the most similar other abstract (labelled unsupported, a hard negative)."""
    records = [r for r in gold.records if r.passages]
    contexts = [[s for p in r.passages for s in split_sentences(p)] for r in records]
    conclusions = [split_sentences(r.answer) for r in records]
    judge.vectors([s for group in (*contexts, *conclusions) for s in group])  # one batched encode
    centroids = np.stack([judge.vectors(c).mean(axis=0) if c else np.zeros(judge.embedder.dim) for c in contexts])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    sims = centroids @ centroids.T
    np.fill_diagonal(sims, -1.0)
    scores: list[tuple[float, float]] = []
    owners: list[str] = []
    for i, rec in enumerate(records):
        own, other = contexts[i], contexts[int(np.argmax(sims[i]))]
        for sentence in conclusions[i]:
            if own and other:
                scores.append((_best(judge, sentence, own), _best(judge, sentence, other)))
                owners.append(rec.id)
    return scores, owners


def calibrate_support(gold: GoldSet, embedder: Embedder, *, seed: int = 13) -> SupportCalibration:
    """Fit the support cosine on half the records (by record) and measure it on the other half."""
    judge = StatementJudge(embedder)
    scores, owners = provenance_scores(gold, judge)
    ids = sorted(set(owners))
    fit_ids = set(random.Random(seed).sample(ids, len(ids) // 2))
    fit = [s for s, o in zip(scores, owners, strict=True) if o in fit_ids]
    test = [s for s, o in zip(scores, owners, strict=True) if o not in fit_ids]
    fitted = best_threshold([p for p, _ in fit], [n for _, n in fit])
    held = apply_threshold(fitted.threshold, [p for p, _ in test], [n for _, n in test])
    return SupportCalibration(fitted, held)


def pair_agreement(embedder: Embedder, path: Path = PAIRS, threshold: float = SUPPORT_COSINE
                   ) -> dict[str, float]:
    """Agreement of the judge's entailment / contradiction / neutral labels with hand-written labels."""
    judge = StatementJudge(embedder, threshold)
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    predicted = [judge.pair(p["premise"], p["hypothesis"]) for p in pairs]
    out = {"pairs": float(len(pairs)),
           "accuracy": float(np.mean([p == g["label"] for p, g in zip(predicted, pairs, strict=True)]))}
    for label in ("entailment", "contradiction", "neutral"):
        gold_l = [p == label for p in (g["label"] for g in pairs)]
        pred_l = [p == label for p in predicted]
        tp = sum(a and b for a, b in zip(gold_l, pred_l, strict=True))
        out[f"{label}_recall"] = tp / max(sum(gold_l), 1)
        out[f"{label}_precision"] = tp / max(sum(pred_l), 1)
    return {k: round(v, 4) for k, v in out.items()}
