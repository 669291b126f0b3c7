"""Hybrid retrieval: Chroma dense + bm25s keyword candidates, fused, de-duplicated, diversified (MMR)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ingest import Document, Filters, Index
from medcite.config import RetrievalSettings
from service.models import Audience, Evidence
from service.rerank import CrossEncoderReranker, Reranker

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Retrieved:
    """Evidence for a query, the query vector, and how long each step took."""

    evidence: list[Evidence]
    query_vector: npt.NDArray[np.float32]
    timings_ms: dict[str, float] = field(default_factory=dict)
    # Documents of every candidate by fused score, before near-duplicate collapsing and MMR (which shape what
    # composition reads, not how relevant a document is): the ranking that ranking metrics measure.
    ranking: list[str] = field(default_factory=list)


class Catalog:
    """In-memory view of the index needed at query time: documents, supersession, passage matrix."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.documents: dict[str, Document] = {d.id: d for d in index.documents()}
        self.superseded_by: dict[str, str] = {}
        for doc in sorted(self.documents.values(), key=lambda d: d.year or 0):
            if doc.supersedes and doc.supersedes in self.documents:
                self.superseded_by[doc.supersedes] = doc.id
        passages = index.passages()  # rows aligned with the keyword scores
        ids, doc_ids, sections, matrix = passages.ids, passages.doc_ids, passages.sections, passages.matrix
        self.ids = ids
        self.position = {chunk_id: i for i, chunk_id in enumerate(ids)}
        doc_order = sorted(self.documents)
        self.doc_order = doc_order
        doc_pos = {d: i for i, d in enumerate(doc_order)}
        self.chunk_doc = np.asarray([doc_pos[d] for d in doc_ids], dtype=np.int64)
        self.matrix = matrix
        # Section titles are embedded once per catalog so that question-section fit costs a dot product.
        self.section_names = sorted(set(sections))
        section_pos = {name: i for i, name in enumerate(self.section_names)}
        self.chunk_section = np.asarray([section_pos[name] for name in sections], dtype=np.int64)
        self.section_matrix = index.embedder.embed_texts(self.section_names) if ids else matrix
        self.superseded = np.zeros(len(ids), dtype=bool)
        patient_docs = np.asarray([self.documents[d].audience == "patient" for d in doc_order], dtype=bool)
        self.patient = patient_docs[self.chunk_doc] if len(ids) else np.zeros(0, dtype=bool)
        stale = np.asarray([d in self.superseded_by for d in doc_order], dtype=bool)
        self.superseded = stale[self.chunk_doc] if len(ids) else self.superseded

    def __len__(self) -> int:
        return len(self.ids)

    def mask(self, filters: Filters) -> npt.NDArray[np.bool_] | None:
        """Chunks admitted by the filters, or None when nothing is filtered."""
        if filters.empty:
            return None
        admitted = np.asarray([filters.admits(self.documents[d]) for d in self.doc_order], dtype=bool)
        return admitted[self.chunk_doc]


class HybridRetriever:
    """Dense + keyword retrieval over one index; fusion and weights come from RetrievalSettings."""

    def __init__(self, catalog: Catalog, settings: RetrievalSettings, *, reranker: Reranker | None = None) -> None:
        self.catalog = catalog
        self.settings = settings
        if reranker is None and settings.reranker_path is not None:
            reranker = CrossEncoderReranker(settings.reranker_path)
        self.reranker = reranker

    def retrieve(
        self,
        query: str,
        *,
        filters: Filters | None = None,
        audience: Audience = "clinician",
        k: int | None = None,
        query_vector: npt.NDArray[np.float32] | None = None,
        prefer: frozenset[str] = frozenset(),
        prefer_boost: float = 0.0,
    ) -> Retrieved:
        """The top-k evidence for a query; passages of `prefer` documents (the subject's) gain prefer_boost."""
        s = self.settings
        cat = self.catalog
        filters = filters or Filters()
        k = k or s.top_k
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        qv = query_vector if query_vector is not None else cat.index.embedder.embed_query(query)
        t1 = time.perf_counter()
        timings["embed"] = (t1 - t0) * 1000
        if not len(cat):
            return Retrieved([], qv, timings)
        mask = cat.mask(filters)

        candidates: set[int] = set()
        if s.fusion != "bm25":
            ids, _ = cat.index.nearest(qv, s.candidates, filters)
            candidates.update(cat.position[i] for i in ids if i in cat.position)
        t2 = time.perf_counter()
        timings["dense"] = (t2 - t1) * 1000
        hits = cat.index.keyword_search(query, s.candidates, mask)
        keyword = hits.scores  # every passage's score: dense candidates get theirs too
        if s.fusion != "dense":
            candidates.update(hits.top)
        t3 = time.perf_counter()
        timings["keyword"] = (t3 - t2) * 1000
        if mask is not None:
            candidates = {i for i in candidates if mask[i]}
        if not candidates:
            return Retrieved([], qv, timings)

        pos = np.fromiter(candidates, dtype=np.int64)
        dense = cat.matrix[pos] @ qv
        kw = keyword[pos]
        kw_max = float(keyword.max()) or 1.0
        section = cat.section_matrix[cat.chunk_section[pos]] @ qv
        fused = self._fuse(dense, kw, kw_max)
        fused = np.where(cat.superseded[pos], fused * s.superseded_penalty, fused)
        if s.fusion in ("weighted", "rrf"):
            # Priors belong to the hybrid systems; `dense` and `bm25` stay plain single retrievers.
            fused = fused + s.section_weight * section
            preferred = cat.patient[pos] == (audience == "patient")
            fused = fused + np.where(preferred, s.audience_boost, 0.0)
            if prefer and prefer_boost:
                about = np.asarray([cat.doc_order[d] in prefer for d in cat.chunk_doc[pos]], dtype=bool)
                fused = fused + np.where(about, prefer_boost, 0.0)
        if self.reranker is not None:
            fused = self._rerank(query, pos, fused, k)
        chosen = self._diversify(pos, fused, k)
        t4 = time.perf_counter()
        timings["fuse"] = (t4 - t3) * 1000
        evidence = self._evidence(pos, chosen, dense, kw, section, fused)
        timings["fetch"] = (time.perf_counter() - t4) * 1000
        ranking = list(dict.fromkeys(cat.doc_order[int(cat.chunk_doc[pos[i]])] for i in np.argsort(-fused)))
        return Retrieved(evidence, qv, timings, ranking)

    def _fuse(
        self, dense: npt.NDArray[np.float32], kw: npt.NDArray[np.float32], kw_max: float
    ) -> npt.NDArray[np.float64]:
        s = self.settings
        if s.fusion == "dense":
            return dense.astype(np.float64)
        if s.fusion == "bm25":
            return (kw / kw_max).astype(np.float64)
        if s.fusion == "rrf":
            dense_rank = np.argsort(np.argsort(-dense))
            kw_rank = np.argsort(np.argsort(-kw))
            rrf = 1.0 / (s.rrf_k + 1 + dense_rank) + np.where(kw > 0, 1.0 / (s.rrf_k + 1 + kw_rank), 0.0)
            # Rescaled so the best possible item scores 1, like the other fusions: the section, audience and
            # MMR terms added later are on that scale and would otherwise swamp RRF's ~1/60 values.
            return rrf * (s.rrf_k + 1) / 2
        # Weighted: cosine plus max-normalised BM25, which keeps dense's calibrated scale at the top.
        return dense.astype(np.float64) + s.keyword_weight * (kw / kw_max)

    def _rerank(
        self, query: str, pos: npt.NDArray[np.int64], fused: npt.NDArray[np.float64], k: int
    ) -> npt.NDArray[np.float64]:
        """Re-score the best candidates with the cross-encoder; the rest stay below them."""
        assert self.reranker is not None
        pool = np.argsort(-fused)[: max(k * 3, 10)]
        ids = [self.catalog.ids[int(pos[i])] for i in pool]
        texts = {c.id: c.embed_text for c, _ in self.catalog.index.chunks(ids, with_vectors=False)}
        ce = self.reranker.scores(query, [texts[i] for i in ids]).astype(np.float64)
        spread = float(ce.max() - ce.min()) or 1.0
        out = fused - (float(fused.max()) + 1.0)  # everything outside the pool ranks below it
        # Cross-encoder order decides; the fused score breaks ties.
        out[pool] = (ce - ce.min()) / spread + 0.01 * fused[pool]
        return out

    def _diversify(self, pos: npt.NDArray[np.int64], fused: npt.NDArray[np.float64], k: int) -> list[int]:
        """Collapse near-duplicates, then maximal marginal relevance over passage vectors."""
        s = self.settings
        order = list(np.argsort(-fused))
        vectors = self.catalog.matrix[pos]
        chosen: list[int] = []
        pool = order[: max(k * 4, 20)]
        while pool and len(chosen) < k:
            if not chosen:
                best = pool[0]
            else:
                sims = vectors[pool] @ vectors[chosen].T
                redundancy = sims.max(axis=1)
                mmr = s.mmr_lambda * fused[pool] - (1 - s.mmr_lambda) * redundancy
                best = pool[int(np.argmax(mmr))]
            pool.remove(best)
            if chosen and float((vectors[chosen] @ vectors[best]).max()) >= s.duplicate_cosine:
                continue  # a near-duplicate of a passage already chosen
            chosen.append(int(best))
        return chosen

    def _evidence(
        self,
        pos: npt.NDArray[np.int64],
        chosen: list[int],
        dense: npt.NDArray[np.float32],
        kw: npt.NDArray[np.float32],
        section: npt.NDArray[np.float32],
        fused: npt.NDArray[np.float64],
    ) -> list[Evidence]:
        cat = self.catalog
        ids = [cat.ids[int(pos[i])] for i in chosen]
        loaded = {c.id: (c, v) for c, v in cat.index.chunks(ids)}
        out: list[Evidence] = []
        for i, chunk_id in zip(chosen, ids, strict=True):
            chunk, vectors = loaded[chunk_id]
            assert vectors is not None
            out.append(
                Evidence(
                    chunk=chunk,
                    document=cat.documents[chunk.doc_id],
                    dense=float(dense[i]),
                    keyword=float(kw[i]),
                    section=float(section[i]),
                    score=float(fused[i]),
                    passage_vector=vectors.passage,
                    sentence_vectors=vectors.sentences,
                    superseded_by=cat.superseded_by.get(chunk.doc_id, ""),
                )
            )
        return out
