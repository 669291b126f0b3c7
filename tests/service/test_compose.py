"""ExtractiveComposer on retrieved evidence, without HTTP: verbatim cited sentences, references by first use."""

from __future__ import annotations

import dataclasses

import pytest

from medcite.config import Settings
from service import AnswerService, ComposeRequest, Composition, ExtractiveComposer, HybridRetriever

pytestmark = pytest.mark.slow


def compose(service: AnswerService, settings: Settings, question: str) -> tuple[ComposeRequest, Composition]:
    found = HybridRetriever(service.catalog, settings.retrieval).retrieve(question)
    request = ComposeRequest(question, found.query_vector, found.evidence, "clinician")
    return request, ExtractiveComposer(settings.compose).compose(request)


def test_sentences_are_verbatim_and_references_numbered_by_first_use(answer_service: AnswerService,
                                                                     corpus_settings: Settings) -> None:
    request, composition = compose(answer_service, corpus_settings, "How are acute NMOSD attacks treated?")
    assert not composition.abstained and 2 <= len(composition.summary) <= 4
    references = composition.references
    assert [r.number for r in references] == list(range(1, len(references) + 1))
    texts = {e.document.id: e.document.text for e in request.evidence}
    by_number = {r.number: r for r in references}
    first_use: list[int] = []
    sentences = [*composition.summary, *(i for kp in composition.key_points for i in kp.items)]
    for sentence in sentences:
        assert sentence.citations, sentence.text
        for n in sentence.citations:
            if n not in first_use:
                first_use.append(n)
        assert any(sentence.text in texts[by_number[n].doc_id] for n in sentence.citations), sentence.text
    assert first_use == sorted(first_use)  # numbered in order of first citation
    for ref in references:
        for span in ref.spans:  # quoted spans carry exact offsets into the document
            assert texts[ref.doc_id][span.start:span.end] == span.text


def test_no_evidence_abstains_and_cites_nothing(answer_service: AnswerService, corpus_settings: Settings) -> None:
    request, _ = compose(answer_service, corpus_settings, "How are acute NMOSD attacks treated?")
    composition = ExtractiveComposer(corpus_settings.compose).compose(dataclasses.replace(request, evidence=[]))
    assert composition.abstained and not composition.references and not composition.summary
