"""Per-question records → one metrics row per (system, gold set); metrics.json in and out."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import RETRIEVAL_METRICS, percentile, retrieval_scores
from eval.records import QuestionResult

# Direction of every reported metric: higher is better unless listed here.
LOWER_IS_BETTER = frozenset({"abstain_answerable", "contradiction_rate", "latency_p50_ms", "latency_p95_ms",
                             "off_topic_answered", "near_miss_answered", "out_of_corpus_answered",
                             "false_abstention"})
# Not compared with a baseline: machine-dependent, or descriptive of the data rather than the system.
NOT_COMPARED = frozenset({"latency_p50_ms", "latency_p95_ms", "ynm_majority_baseline", "passages_k"})


@dataclass(slots=True)
class MetricsRow:
    """The metrics of one system on one gold set."""

    system: str
    set: str
    questions: int = 0
    out_of_scope: int = 0
    values: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON object: system, set, counts, then the metrics."""
        return {"system": self.system, "set": self.set, "questions": self.questions,
                "out_of_scope": self.out_of_scope, **self.values}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> MetricsRow:
        """Parse one object of metrics.json."""
        counts = ("system", "set", "questions", "out_of_scope")
        values = {k: (float(v) if v is not None else None) for k, v in raw.items() if k not in counts}
        return cls(str(raw["system"]), str(raw["set"]), int(raw.get("questions", 0)),
                   int(raw.get("out_of_scope", 0)), values)


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(float(np.mean(kept)), 4) if kept else None


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _retrieval(results: Sequence[QuestionResult], level: str) -> dict[str, float | None]:
    gold = {r.id: (r.gold if level == "record" else r.gold_doc) for r in results}
    per_q = retrieval_scores({r.id: r.ranking for r in results}, gold)
    prefix = "" if level == "record" else "doc_"
    return {f"{prefix}{m}": _mean(s[m] for s in per_q.values()) for m in RETRIEVAL_METRICS} if per_q else {}


def guideline_values(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """Answerability and fact metrics of a guideline set (questions with a category)."""
    answerable = [r for r in results if r.category == "answerable"]
    ooc = [r for r in results if r.category == "out_of_corpus"]
    near = [r for r in results if r.category == "near_miss"]
    facts = sum(r.counts.get("facts", 0) for r in answerable)
    v: dict[str, float | None] = {
        "off_topic_answered": _mean(float(not r.abstained) for r in (*ooc, *near)),
        "out_of_corpus_answered": _mean(float(not r.abstained) for r in ooc),
        "near_miss_answered": _mean(float(not r.abstained) for r in near),
        "false_abstention": _mean(float(r.abstained) for r in answerable),
        "fact_recall": _ratio(sum(r.counts.get("facts_found", 0) for r in answerable), facts),
        "fact_recall_lead": _ratio(sum(r.counts.get("facts_lead", 0) for r in answerable), facts),
        "all_facts": _mean(float(r.counts.get("facts_found", 0) == r.counts.get("facts", -1)) for r in answerable),
        "all_facts_lead": _mean(float(r.counts.get("facts_lead", 0) == r.counts.get("facts", -1))
                                for r in answerable),
        "guideline_hit": _mean(r.metrics.get("guideline_hit") for r in answerable),
    }
    if answerable:
        v.update(_retrieval(answerable, "document"))
    return v


def summarise(system: str, set_name: str, results: Sequence[QuestionResult]) -> MetricsRow:
    """The metrics row of one (system, set) from its records."""
    answerable = [r for r in results if r.kind == "answerable"]
    oos = [r for r in results if r.kind == "out_of_scope"]
    v: dict[str, float | None] = {}
    if any(r.category for r in results):
        v.update(guideline_values(results))
    elif answerable:
        v.update(_retrieval(answerable, "record"))
        if any(r.gold_doc for r in answerable):
            v.update(_retrieval([r for r in answerable if r.gold_doc], "document"))
        v["rougeL_f"] = _mean(r.metrics.get("rougeL_f") for r in answerable)
        v["statement_recall"] = _mean(r.metrics.get("statement_recall") for r in answerable)
        v["contradiction_rate"] = _ratio(sum(r.counts.get("contradicted", 0) for r in answerable),
                                         sum(r.counts.get("sentences", 0) for r in answerable))
        v["abstain_answerable"] = _mean(float(r.abstained) for r in answerable)
        decided = [r for r in answerable if r.decision]
        if decided:
            v["ynm_accuracy"] = _mean(float(r.predicted_decision == r.decision) for r in decided)
            labels = [r.decision for r in decided]
            majority = max(set(labels), key=labels.count)
            v["ynm_majority_baseline"] = _mean(float(label == majority) for label in labels)
    every = answerable + oos
    c = {k: sum(r.counts.get(k, 0) for r in every) for k in ("citations", "valid", "cited", "supported", "sentences")}
    v["citation_validity"] = _ratio(c["valid"], c["citations"])
    v["citation_support"] = _ratio(c["supported"], c["cited"])
    v["citation_coverage"] = _ratio(c["cited"], c["sentences"])
    if oos:
        v["abstain_oos"] = _mean(float(r.abstained) for r in oos)
    if any("passages" in r.counts for r in results):  # how many passages composition read (the k used)
        v["passages_k"] = _mean(float(r.counts.get("passages", 0)) for r in results)
    latencies = [r.latency_ms for r in every]
    v["latency_p50_ms"] = round(percentile(latencies, 50), 1)
    v["latency_p95_ms"] = round(percentile(latencies, 95), 1)
    return MetricsRow(system, set_name, len(answerable), len(oos), v)


def aggregate(results: Sequence[QuestionResult]) -> list[MetricsRow]:
    """One row per (system, set), in the order the pairs first appear."""
    groups: dict[tuple[str, str], list[QuestionResult]] = {}
    for r in results:
        groups.setdefault((r.set, r.system), []).append(r)
    return [summarise(system, set_name, rs) for (set_name, system), rs in groups.items()]


def write_metrics(rows: Sequence[MetricsRow], path: Path) -> None:
    """metrics.json: a list of flat objects."""
    path.write_text(json.dumps([r.to_dict() for r in rows], indent=2) + "\n", encoding="utf-8")


def read_metrics(path: Path) -> list[MetricsRow]:
    """Rows of a metrics.json file."""
    return [MetricsRow.from_dict(raw) for raw in json.loads(path.read_text(encoding="utf-8"))]
