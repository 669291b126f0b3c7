"""Per-question results: a typed record, appended to records.jsonl as each completes, read back to resume."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Key = tuple[str, str, str]  # (system, set, question id)


@dataclass(frozen=True, slots=True)
class SentenceOut:
    """An answer sentence and the reference numbers it cites."""

    text: str
    citations: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ReferenceOut:
    """A numbered reference of an answer with the passages it quotes."""

    number: int
    doc_id: str
    title: str
    spans: tuple[str, ...] = ()


@dataclass(slots=True)
class QuestionResult:
    """Everything measured for one question under one system."""

    system: str
    set: str
    id: str
    kind: str  # answerable / out_of_scope
    question: str
    reference: str = ""
    decision: str = ""  # gold yes/no/maybe, when the set has one
    predicted_decision: str = ""
    gold: list[str] = field(default_factory=list)
    gold_doc: list[str] = field(default_factory=list)
    ranking: list[str] = field(default_factory=list)  # retrieved documents, best first
    summary: str = ""  # the lead summary with [n] markers
    sentences: list[SentenceOut] = field(default_factory=list)
    references: list[ReferenceOut] = field(default_factory=list)
    abstained: bool = False
    confidence: float = 0.0
    latency_ms: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)  # citation and statement counts
    category: str = ""  # guideline set: answerable / out_of_corpus / near_miss
    ask: str = ""
    abstention_reason: str = ""
    gate_abstained: bool = False  # the answerability gate (not the composer) abstained
    signals: dict[str, Any] = field(default_factory=dict)  # the gate's signals, replayed by calibration
    metrics: dict[str, float | None] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        """(system, set, id): what resuming skips on."""
        return (self.system, self.set, self.id)

    def to_json(self) -> str:
        """One JSON line."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> QuestionResult:
        """Rebuild from a parsed JSON line."""
        data = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        data["sentences"] = [SentenceOut(s["text"], tuple(s.get("citations", ()))) for s in raw.get("sentences", [])]
        data["references"] = [ReferenceOut(r["number"], r["doc_id"], r.get("title", ""), tuple(r.get("spans", ())))
                              for r in raw.get("references", [])]
        return cls(**data)


class RecordStore:
    """records.jsonl in the output folder: appended line by line, flushed, tolerant of a torn last line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)

    def load(self) -> list[QuestionResult]:
        """Every complete record; the last record of a (system, set, id) wins."""
        if not self.path.exists():
            return []
        results: dict[Key, QuestionResult] = {}
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    result = QuestionResult.from_dict(json.loads(line))
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    log.warning("%s:%d: skipping unreadable record (%s)", self.path, number, exc)
                    continue
                results[result.key] = result
        return list(results.values())

    def done(self) -> set[Key]:
        """Keys already measured."""
        return {r.key for r in self.load()}

    def append(self, result: QuestionResult) -> None:
        """Write one record and flush it to disk (after closing a line torn by an interrupted run)."""
        torn = False
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as handle:
                handle.seek(-1, 2)
                torn = handle.read(1) != b"\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(("\n" if torn else "") + result.to_json() + "\n")
            handle.flush()
