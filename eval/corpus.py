"""Retrieval corpora built the way each benchmark intends, written as shared-schema JSONL and indexed once.

Pooled-passage sets (PubMedQA): every passage of every record is a document `<id>__p<i>`; a question's gold
documents are its own passages. QA collections (MedQuAD): the distinct reference answers are the documents;
record-level gold is the question's own answer, document-level gold any answer of the same source document.
The question text is never written to the index: each collection record gets an empty question, so the
loader's title falls back to `focus` (the page's topic) and never to the question.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eval.gold import GoldRecord, GoldSet, sample
from ingest import Embedder, Progress, ingest_paths, record_to_document
from medcite.config import Settings
from medcite.errors import CorpusError

log = logging.getLogger(__name__)

CACHE_VERSION = "1"
QuestionKind = Literal["answerable", "out_of_scope"]


@dataclass(frozen=True, slots=True)
class Question:
    """A question to evaluate and its gold: index document ids at record and document level."""

    id: str
    text: str
    reference: str = ""
    gold: frozenset[str] = frozenset()
    gold_doc: frozenset[str] = frozenset()
    decision: str = ""
    kind: QuestionKind = "answerable"
    # Guideline-set questions only: answerable / out_of_corpus / near_miss, and what a correct answer holds.
    category: str = ""
    ask: str = ""
    audience: str = "clinician"
    must_have: tuple[tuple[str, ...], ...] = ()
    history: tuple[str, ...] = ()


@dataclass(slots=True)
class Collection:
    """The documents of a gold set's index and where each gold record's evidence went."""

    rows: list[dict[str, Any]] = field(default_factory=list)  # shared-schema records, private to this module
    record_docs: dict[str, frozenset[str]] = field(default_factory=dict)  # gold record id → index doc ids
    source_docs: dict[str, frozenset[str]] = field(default_factory=dict)  # gold doc_id → index doc ids
    members: tuple[GoldRecord, ...] = ()  # gold records whose evidence is indexed

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True, slots=True)
class EvalIndex:
    """A built index for one gold set (or the guideline corpus alone)."""

    name: str
    settings: Settings
    folder: Path
    documents: int
    collection: Collection = field(default_factory=Collection)


def _doc_id(row: dict[str, Any]) -> str:
    return record_to_document(row, "").id


def _row(record_id: str, text: str, gold: GoldRecord, *, focus: str, section: str) -> dict[str, Any]:
    # Only metadata the loader maps to page structure; `question` stays empty so it is never indexed.
    return {"id": record_id, "question": "", "answer": text, "source": gold.source, "url": gold.url or None,
            "doc_id": gold.doc_id or None, "passages": [],
            "meta": {"focus": focus, "question_type": section, "collection": gold.collection}}


def build_collection(gold: GoldSet, *, index_limit: int | None = None, seed: int = 13) -> Collection:
    """The index documents of a gold set (all records, or a seeded sample of `index_limit` records)."""
    members = sample(gold.records, index_limit, seed) if index_limit else list(gold.records)
    out = Collection(members=tuple(members))
    if gold.kind == "passages":
        for rec in members:
            ids: list[str] = []
            for i, passage in enumerate(rec.passages):
                label = rec.context_labels[i].lower() if i < len(rec.context_labels) else ""
                row = _row(f"{rec.id}__p{i}", passage, rec, focus="", section=label)
                out.rows.append(row)
                ids.append(_doc_id(row))
            out.record_docs[rec.id] = frozenset(ids)
        return out
    by_text: dict[str, str] = {}
    by_source: defaultdict[str, set[str]] = defaultdict(set)
    for rec in members:
        doc = by_text.get(rec.answer)
        if doc is None:  # identical answer texts are one document, named after their first record
            row = _row(rec.id, rec.answer, rec, focus=rec.focus, section=rec.question_type)
            doc = by_text[rec.answer] = _doc_id(row)
            out.rows.append(row)
        out.record_docs[rec.id] = frozenset({doc})
        if rec.doc_id:
            by_source[rec.doc_id].add(doc)
    out.source_docs = {k: frozenset(v) for k, v in by_source.items()}
    return out


def questions_for(gold: GoldSet, collection: Collection, *, limit: int | None, seed: int) -> list[Question]:
    """A seeded sample of the collection's records as questions with their gold documents."""
    out: list[Question] = []
    for rec in sample(collection.members, limit, seed):
        docs = collection.record_docs.get(rec.id, frozenset())
        if not docs:
            continue
        level_doc = collection.source_docs.get(rec.doc_id, docs) if gold.kind == "answers" else frozenset()
        out.append(Question(id=rec.id, text=rec.question, reference=rec.answer, gold=docs, gold_doc=level_doc,
                            decision=rec.final_decision))
    return out


def cache_key(parts: dict[str, Any], settings: Settings) -> str:
    """A short hash of what an index is built from, including the settings that shape its chunks."""
    spec = {**parts, "v": CACHE_VERSION, "model": settings.embedding.model_id,
            "chunk_tokens": settings.ingest.chunk_tokens, "overlap": settings.ingest.overlap_sentences}
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _ingest(folder: Path, paths: list[Path], settings: Settings, embedder: Embedder,
            progress: Progress | None) -> Settings:
    index_settings = settings.with_index(folder / "index")
    report = ingest_paths(paths, settings=index_settings, embedder=embedder, progress=progress)
    if not report.ok:
        reasons = "; ".join(f"{f.source}: {f.reason}" for f in report.failures[:3])
        raise CorpusError(f"building the eval index in {folder} failed for {len(report.failures)} items: {reasons}")
    log.info("eval index %s: %d added, %d updated, %d unchanged", folder, report.added, report.updated,
             report.unchanged)
    return index_settings


def build_index(gold: GoldSet, *, cache_dir: Path, settings: Settings, embedder: Embedder,
                corpus: Path | None = None, index_limit: int | None = None, seed: int = 13,
                progress: Progress | None = None) -> EvalIndex:
    """Index a gold set's collection (plus the guideline corpus) in a cache folder keyed by its inputs."""
    collection = build_collection(gold, index_limit=index_limit, seed=seed)
    key = cache_key({"gold": gold.sha256, "mode": gold.kind, "index_limit": index_limit,
                     "seed": seed if index_limit else None,
                     "corpus": str(corpus.resolve()) if corpus else None}, settings)
    folder = cache_dir / f"{gold.name}-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    jsonl = folder / "collection.jsonl"
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in collection.rows)
    if not jsonl.exists() or jsonl.read_text(encoding="utf-8") != text:
        jsonl.write_text(text, encoding="utf-8")
    paths = [jsonl, *([corpus] if corpus else [])]
    index_settings = _ingest(folder, paths, settings, embedder, progress)
    return EvalIndex(name=gold.name, settings=index_settings, folder=folder, documents=len(collection),
                     collection=collection)


def build_corpus_index(corpus: Path, *, cache_dir: Path, settings: Settings, embedder: Embedder,
                       progress: Progress | None = None) -> EvalIndex:
    """Index the guideline corpus alone (the scope against which rare-disease questions are out of scope)."""
    key = cache_key({"mode": "corpus", "corpus": str(corpus.resolve())}, settings)
    folder = cache_dir / f"corpus-{key}"
    folder.mkdir(parents=True, exist_ok=True)
    index_settings = _ingest(folder, [corpus], settings, embedder, progress)
    return EvalIndex(name="guideline-corpus", settings=index_settings, folder=folder, documents=0)
