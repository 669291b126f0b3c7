"""Retrieval corpora: pooled passages, deduplicated answers, gold at two levels, no question text indexed."""

from __future__ import annotations

from pathlib import Path

from eval import build_collection, build_index, load_gold, questions_for
from ingest import Index, SentenceTransformerEmbedder
from medcite.config import Settings


def test_answers_collection_dedupes_and_maps_gold(answers_gold: Path) -> None:
    gold = load_gold(answers_gold)
    assert gold.kind == "answers"
    collection = build_collection(gold)
    assert len(collection) == 5  # 7 records, mq-5/6/7 share one answer text
    assert collection.record_docs["mq-7"] == collection.record_docs["mq-5"] == frozenset({"mq-5"})
    assert collection.source_docs["NEI:glaucoma"] == frozenset({"mq-1", "mq-2"})
    questions = {q.id: q for q in questions_for(gold, collection, limit=None, seed=1)}
    assert "mq-6" not in questions, "duplicates are not evaluated"
    assert questions["mq-1"].gold == frozenset({"mq-1"})
    assert questions["mq-1"].gold_doc == frozenset({"mq-1", "mq-2"})
    assert questions["mq-7"].gold_doc == frozenset({"mq-5"})
    assert len(questions_for(gold, collection, limit=3, seed=1)) == 3


def test_index_holds_no_question_text_and_pools_all_passages(
        answers_gold: Path, passages_gold: Path, tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    cache = tmp_path / "cache"
    for path in (answers_gold, passages_gold):
        gold = load_gold(path)
        built = build_index(gold, cache_dir=cache, settings=Settings(), embedder=embedder)
        index = Index.open(built.settings, embedder=embedder)
        try:
            chunks = [c for c, _ in index.store.iter_chunks(with_vectors=False)]
            docs = index.documents()
        finally:
            index.close()
        indexed = "\n".join([c.embed_text for c in chunks] + [d.title for d in docs]).casefold()
        for rec in gold.records:
            assert rec.question.casefold() not in indexed, rec.question
        assert all(dict(d.extra).get("question", "") == "" for d in docs)
        if gold.kind == "passages":
            # every record's passages are pooled, even when only some questions are sampled
            expected = {f"{r.id}__p{i}" for r in gold.records for i in range(len(r.passages))}
            assert {d.id for d in docs} == expected
            qs = questions_for(gold, built.collection, limit=2, seed=3)
            assert len(qs) == 2 and all(q.gold == {f"{q.id}__p{i}" for i in range(len(gold.get(q.id).passages))}
                                        for q in qs)
            assert {c.section for c in chunks} >= {"Background", "Results"}
        else:
            assert {d.title for d in docs} == {"Glaucoma", "Gout", "Psoriasis"}
    # the cache is keyed by the gold file's content: a rebuild reuses the folder, an edit makes a new one
    again = build_index(load_gold(answers_gold), cache_dir=cache, settings=Settings(), embedder=embedder)
    assert again.folder.parent == cache and len(list(cache.iterdir())) == 2
    answers_gold.write_text(answers_gold.read_text().replace("sudden pain", "sudden severe pain"))
    edited = build_index(load_gold(answers_gold), cache_dir=cache, settings=Settings(), embedder=embedder,
                         index_limit=4, seed=2)
    assert edited.folder != again.folder and edited.documents <= 4
