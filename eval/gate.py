"""Calibrating the answerability gate: replay its decision over recorded signals with other thresholds.

Chosen on the guideline set's dev split (minimising off-topic answers + false abstentions), reported on both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eval.records import QuestionResult
from medcite.config import AnswerabilitySettings
from service import Signals, decide

GRID: dict[str, tuple[float, ...]] = {
    "min_cosine": tuple(round(0.30 + 0.05 * i, 3) for i in range(7)),
    "min_cosine_subject": (0.2, 0.25, 0.3, 0.35, 0.4, 0.45),
    "unknown_zipf_max": tuple(round(2.5 + 0.25 * i, 2) for i in range(9)),
    "min_term_coverage": tuple(round(0.3 + 0.1 * i, 2) for i in range(6)),
    "min_sentence_coverage": (0.4, 0.6, 0.8),
    "key_word_fraction": (0.6, 0.7, 0.8, 0.9, 1.01),
    "min_ask_coverage": (0.0, 0.2, 0.3, 0.4, 0.5, 0.6),
    "min_phrase_weight": (2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 99.0),
}


@dataclass(frozen=True, slots=True)
class GateRates:
    """Error rates of one threshold choice on one set of questions."""

    off_topic_answered: float
    false_abstention: float
    answerable: int
    abstain_expected: int

    @property
    def error(self) -> float:
        """Balanced error: the mean of the two rates."""
        return (self.off_topic_answered + self.false_abstention) / 2


@dataclass(frozen=True, slots=True)
class GateCalibration:
    """Thresholds chosen on dev and what they give on dev and test."""

    system: str
    thresholds: dict[str, float]
    dev: GateRates
    test: GateRates | None
    current: dict[str, float]
    current_dev: GateRates

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        def rates(r: GateRates | None) -> dict[str, float | int] | None:
            return None if r is None else {"off_topic_answered": r.off_topic_answered,
                                           "false_abstention": r.false_abstention,
                                           "answerable": r.answerable, "abstain_expected": r.abstain_expected}
        return {"system": self.system, "recommended": self.thresholds, "dev": rates(self.dev),
                "test": rates(self.test), "current": self.current, "current_dev": rates(self.current_dev)}


def signals_of(raw: dict[str, Any]) -> Signals:
    """Signals from a record's JSON."""
    data = dict(raw)
    data["unknown"] = tuple((str(w), float(z)) for w, z in data.get("unknown", ()))
    data["words"] = tuple((str(w), float(x), bool(f)) for w, x, f in data.get("words", ()))
    data["phrases"] = tuple((str(w), float(x), bool(f)) for w, x, f in data.get("phrases", ()))
    for key in ("uncovered_subjects", "missing_words", "missing_populations", "unpaired", "paired_with",
                "uncovered_conditions", "covered_conditions", "absent_procedures", "absent_objects"):
        data[key] = tuple(data.get(key, ()))
    return Signals(**{k: v for k, v in data.items() if k in Signals.__dataclass_fields__})


def _abstains(r: QuestionResult, sig: Signals, t: AnswerabilitySettings) -> bool:
    if r.abstained and not r.gate_abstained:
        return True  # the composer found nothing to say: thresholds do not change that
    return not decide(sig, t)[0]


def rates(results: Sequence[tuple[QuestionResult, Signals]], t: AnswerabilitySettings) -> GateRates:
    """Off-topic-answered and false-abstention rates under thresholds t."""
    pos = [(r, s) for r, s in results if r.category == "answerable"]
    neg = [(r, s) for r, s in results if r.category in ("out_of_corpus", "near_miss")]
    fa = sum(_abstains(r, s, t) for r, s in pos) / len(pos) if pos else 0.0
    ot = sum(not _abstains(r, s, t) for r, s in neg) / len(neg) if neg else 0.0
    return GateRates(round(ot, 4), round(fa, 4), len(pos), len(neg))


def calibrate_gate(results: Sequence[QuestionResult], base: AnswerabilitySettings, *, system: str = "hybrid"
                   ) -> GateCalibration | None:
    """Search the gate thresholds on the dev split; None when there are no guideline dev records."""
    mine = [(r, signals_of(r.signals)) for r in results if r.system == system and r.category and r.signals]
    dev = [x for x in mine if x[0].set.endswith("-dev")]
    test = [x for x in mine if x[0].set.endswith("-test")]
    if not dev:
        return None
    current = {k: float(getattr(base, k)) for k in GRID}
    # Coordinate descent over the grid (each threshold in turn, until none moves): the full product is too big.
    choice = dict(current)
    score = rates(dev, base.model_copy(update=choice)).error
    for _ in range(6):
        moved = False
        for name, values in GRID.items():
            for value in values:
                trial = {**choice, name: value}
                error = rates(dev, base.model_copy(update=trial)).error
                distance = sum(abs(trial[k] - current[k]) for k in GRID)  # ties: stay near the current values
                if (error, distance) < (score, sum(abs(choice[k] - current[k]) for k in GRID)):
                    choice, score, moved = trial, error, True
        if not moved:
            break
    chosen = base.model_copy(update=choice)
    return GateCalibration(system, choice, rates(dev, chosen), rates(test, chosen) if test else None,
                           current, rates(dev, base))
