"""Gold sets in the shared JSON Lines schema: typed records, content hash, seeded sampling."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medcite.errors import CorpusError

SetKind = Literal["passages", "answers"]


@dataclass(frozen=True, slots=True)
class GoldRecord:
    """One gold item: question, reference answer, evidence passages and the meta fields eval uses."""

    id: str
    question: str
    answer: str
    source: str = ""
    url: str = ""
    doc_id: str = ""
    passages: tuple[str, ...] = ()
    focus: str = ""
    question_type: str = ""
    collection: str = ""
    final_decision: str = ""  # yes / no / maybe (PubMedQA)
    duplicate_of: str = ""
    context_labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GoldSet:
    """A gold file: its records, its SHA-256 and how its retrieval corpus is built."""

    name: str
    path: Path
    sha256: str
    records: tuple[GoldRecord, ...]
    kind: SetKind = "answers"
    by_id: dict[str, GoldRecord] = field(default_factory=dict, compare=False, repr=False)

    def get(self, record_id: str) -> GoldRecord:
        """The record with this id."""
        return self.by_id[record_id]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_record(raw: dict[str, Any], where: str) -> GoldRecord:
    """A GoldRecord from one JSON object of the shared schema."""
    for key in ("id", "question", "answer"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise CorpusError(f"{where}: record has no string field {key!r}")
    meta = raw.get("meta") if isinstance(raw.get("meta"), dict) else {}
    assert isinstance(meta, dict)
    passages = raw.get("passages") or []
    if not isinstance(passages, list):
        raise CorpusError(f"{where}: passages must be a list")
    labels = meta.get("context_labels") or []
    return GoldRecord(
        id=raw["id"].strip(), question=" ".join(raw["question"].split()), answer=raw["answer"].strip(),
        source=_text(raw.get("source")), url=_text(raw.get("url")), doc_id=_text(raw.get("doc_id")),
        passages=tuple(str(p).strip() for p in passages if str(p).strip()),
        focus=_text(meta.get("focus")), question_type=_text(meta.get("question_type")),
        collection=_text(meta.get("collection")), final_decision=_text(meta.get("final_decision")).lower(),
        duplicate_of=_text(meta.get("duplicate_of")),
        context_labels=tuple(str(label) for label in labels) if isinstance(labels, list) else (),
    )


def load_gold(path: Path) -> GoldSet:
    """Read a gold JSON Lines file; passages on any record make it a pooled-passage set."""
    if not path.is_file():
        raise CorpusError(f"{path}: no such gold file")
    data = path.read_bytes()
    records: list[GoldRecord] = []
    for number, line in enumerate(data.decode("utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{path}:{number}: malformed JSON: {exc.msg}") from None
        if not isinstance(raw, dict):
            raise CorpusError(f"{path}:{number}: line is not a JSON object")
        records.append(parse_record(raw, f"{path}:{number}"))
    if not records:
        raise CorpusError(f"{path}: gold file has no records")
    ids = [r.id for r in records]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"{path}: record ids are not unique")
    kind: SetKind = "passages" if any(r.passages for r in records) else "answers"
    return GoldSet(name=path.stem, path=path, sha256=hashlib.sha256(data).hexdigest(), records=tuple(records),
                   kind=kind, by_id={r.id: r for r in records})


def sample(records: Sequence[GoldRecord], limit: int | None, seed: int) -> list[GoldRecord]:
    """A seeded random sample of unique records (duplicates skipped), kept in file order."""
    eligible = [r for r in records if not r.duplicate_of]
    if limit is None or limit >= len(eligible):
        return eligible
    picked = set(random.Random(seed).sample(range(len(eligible)), limit))
    return [r for i, r in enumerate(eligible) if i in picked]
