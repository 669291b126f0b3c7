"""HybridRetriever on the bundled corpus index, without HTTP: filters, the reader, superseded versions, k."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from medcite.config import Settings
from service import AnswerService, Filters, HybridRetriever

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retriever(answer_service: AnswerService, corpus_settings: Settings) -> HybridRetriever:
    return HybridRetriever(answer_service.catalog, corpus_settings.retrieval)


def test_filters_admit_only_matching_guidelines(retriever: HybridRetriever) -> None:
    query = "first-line treatment for hypertension"
    unfiltered = retriever.retrieve(query)
    assert any(e.document.issuer != "NICE" for e in unfiltered.evidence)  # the filter has something to remove
    nice = retriever.retrieve(query, filters=Filters(issuers=("nice",)))  # issuers match case-insensitively
    assert nice.evidence and {e.document.issuer for e in nice.evidence} == {"NICE"}
    recent = retriever.retrieve(query, filters=Filters(year_from=2022))
    assert recent.evidence and all((e.document.year or 0) >= 2022 for e in recent.evidence)
    patient = retriever.retrieve(query, filters=Filters(audience="patient"))
    assert all(e.document.audience == "patient" for e in patient.evidence)
    topic = retriever.retrieve("treatment", filters=Filters(topic="asthma"))
    assert topic.evidence and all(Filters(topic="asthma").admits(e.document) for e in topic.evidence)


def test_the_readers_documents_gain_the_audience_boost(retriever: HybridRetriever, corpus_settings: Settings
                                                       ) -> None:
    query = "How are acute NMOSD attacks treated?"
    clinician = {e.chunk.id: e for e in retriever.retrieve(query, audience="clinician", k=12).evidence}
    patient = {e.chunk.id: e for e in retriever.retrieve(query, audience="patient", k=12).evidence}
    both = clinician.keys() & patient.keys()
    kinds = {clinician[c].document.audience for c in both}
    assert kinds == {"clinician", "patient"}  # the NMOSD guideline and its plain-language companion
    boost = corpus_settings.retrieval.audience_boost
    for chunk_id in both:
        sign = 1 if clinician[chunk_id].document.audience == "patient" else -1
        assert patient[chunk_id].score - clinician[chunk_id].score == pytest.approx(sign * boost)


def test_superseded_versions_are_flagged_and_rank_below_their_successor(retriever: HybridRetriever) -> None:
    assert retriever.catalog.superseded_by["asthma-gina-2018"] == "asthma-gina-2024"
    found = retriever.retrieve("GINA asthma reliever inhaler for adults", k=12)
    assert found.ranking.index("asthma-gina-2024") < found.ranking.index("asthma-gina-2018")
    for e in found.evidence:
        assert e.superseded_by == retriever.catalog.superseded_by.get(e.document.id, "")


def test_k_passages_without_near_duplicates(retriever: HybridRetriever, corpus_settings: Settings) -> None:
    found = retriever.retrieve("screening mammography age", k=5)
    assert len(found.evidence) == 5
    assert [e.score for e in found.evidence] != [] and found.ranking  # every candidate's document, ranked
    assert {e.document.id for e in found.evidence} <= set(found.ranking)
    for a, b in itertools.combinations(found.evidence, 2):
        assert a.chunk.id != b.chunk.id
        assert float(np.dot(a.passage_vector, b.passage_vector)) < corpus_settings.retrieval.duplicate_cosine
    assert set(found.timings_ms) == {"embed", "dense", "keyword", "fuse", "fetch"}
