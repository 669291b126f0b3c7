"""Metric computations on hand-made cases."""

from __future__ import annotations

import pytest

from eval import (
    MetricsRow,
    StatementJudge,
    best_threshold,
    citation_scores,
    compare,
    decide,
    retrieval_scores,
    rouge_l,
)
from eval.text import negated, overlap, split_sentences
from ingest import Document, SentenceTransformerEmbedder
from service import Answer, CitedSentence, KeyPoint, QuotedSpan, Reference, ReviewStatus

DOC_TEXT = "Intro line.\nAspirin lowers the risk of a second heart attack. Statins lower cholesterol."


def make_answer(summary: list[CitedSentence], items: list[CitedSentence], references: list[Reference],
                abstained: bool = False) -> Answer:
    return Answer(id="a", question="q", query="q", audience="clinician", summary_sentences=summary,
                  key_points=[KeyPoint("Heading", tuple(items))] if items else [], references=references,
                  abstained=abstained, abstention_reason="", nearest_topics=[], review_status=ReviewStatus.SUBMITTED,
                  pending_review="", last_updated="", disclaimer="", composer="extractive", confidence=0.9)


def reference(number: int, spans: list[tuple[int, int]], text: str = DOC_TEXT, doc_id: str = "d1") -> Reference:
    return Reference(number=number, doc_id=doc_id, title="T", issuer="", year=None, version="", url="", doi="",
                     audience="clinician", spans=[QuotedSpan("s", text[a:b], a, b) for a, b in spans])


def test_retrieval_scores_match_hand_computed_values() -> None:
    scores = retrieval_scores({"q1": ["a", "b", "c"], "q2": ["x", "y"], "q3": []},
                              {"q1": {"b"}, "q2": {"y", "z"}, "q3": {"k"}})
    assert scores["q1"]["recall@1"] == 0.0 and scores["q1"]["recall@5"] == 1.0
    assert scores["q1"]["mrr"] == pytest.approx(0.5)
    assert scores["q1"]["ndcg@10"] == pytest.approx(1 / 1.584962500721156)  # 1/log2(3)
    assert scores["q2"]["recall@20"] == pytest.approx(0.5)
    idcg = 1 + 1 / 1.584962500721156
    assert scores["q2"]["ndcg@10"] == pytest.approx((1 / 1.584962500721156) / idcg)
    assert scores["q3"] == dict.fromkeys(scores["q3"], 0.0)


def test_rouge_l_bounds() -> None:
    assert rouge_l("Aspirin lowers risk.", "Aspirin lowers risk.") == pytest.approx(1.0)
    assert rouge_l("Aspirin lowers risk.", "Completely unrelated words here.") == 0.0
    assert rouge_l("Aspirin lowers risk.", "") == 0.0


def test_citation_validity_support_and_coverage() -> None:
    good = CitedSentence("Aspirin lowers the risk of a second heart attack.", (1,))
    bad_number = CitedSentence("Statins lower cholesterol.", (2,))  # there is no reference 2
    uncited = CitedSentence("An uncited sentence about nothing.", ())
    paraphrase = CitedSentence("Statins reduce cholesterol levels.", (1,))  # cited, but not what [1] quotes
    start = DOC_TEXT.index("Aspirin")
    ref = reference(1, [(start, DOC_TEXT.index(" Statins"))])
    answer = make_answer([good, bad_number], [uncited, paraphrase], [ref])
    docs = {"d1": Document(id="d1", title="T", text=DOC_TEXT, source="x")}
    scores = citation_scores(answer, docs)
    assert (scores.citations, scores.valid) == (3, 2)
    assert (scores.sentences, scores.cited, scores.supported) == (4, 3, 1)


def test_support_requires_the_span_to_be_exact_in_the_source() -> None:
    sentence = CitedSentence("Aspirin lowers the risk of a second heart attack.", (1,))
    forged = Reference(number=1, doc_id="d1", title="T", issuer="", year=None, version="", url="", doi="",
                       audience="clinician", spans=[QuotedSpan("s", sentence.text, 0, len(sentence.text))])
    docs = {"d1": Document(id="d1", title="T", text=DOC_TEXT, source="x")}
    assert citation_scores(make_answer([sentence], [], [forged]), docs).supported == 0


def test_decision_rule() -> None:
    yes = make_answer([CitedSentence("Early mobilisation shortens hospital stay.", (1,))], [], [])
    no = make_answer([CitedSentence("Coffee was not linked to atrial fibrillation.", (1,))], [], [])
    assert decide(yes) == "yes" and decide(no) == "no"
    assert decide(make_answer([], [], [], abstained=True)) == "maybe"


def test_sentences_and_negation() -> None:
    text = "Key Points\n- Gout is caused by uric acid. - It hurts, e.g. 5 joints may swell. Dr. Smith agrees."
    assert split_sentences(text) == ["Gout is caused by uric acid.", "It hurts, e.g. 5 joints may swell.",
                                     "Dr. Smith agrees."]
    assert negated("There is no cure.") and not negated("There is a cure.")
    assert overlap("Aspirin does not reduce risk.", "Aspirin reduces the risk.") == 0.5  # {aspirin, risk} / 4
    assert overlap("The", "Aspirin") == 0.0


def test_statement_judge_support_and_contradiction(embedder: SentenceTransformerEmbedder) -> None:
    judge = StatementJudge(embedder)
    reference_sents = ["Aspirin reduces the risk of a second heart attack.", "Gout is caused by uric acid crystals."]
    same = judge.judge(reference_sents, ["Aspirin reduces the risk of a second heart attack."])
    assert (same.supported, same.contradicted, same.recall) == (1, 0, 0.5)
    flipped = judge.judge(reference_sents, ["Aspirin does not reduce the risk of a second heart attack."])
    assert flipped.supported == 0 and flipped.contradiction_rate == 1.0
    unrelated = judge.judge(reference_sents, ["The capital of Australia is Canberra."])
    assert unrelated.supported == 0 and unrelated.contradicted == 0
    # Same disease, opposite polarity, different claim: not a contradiction (content words differ).
    other_claim = judge.judge(reference_sents, ["Gout is not common in young children."])
    assert other_claim.contradicted == 0
    assert judge.judge(reference_sents, []).contradiction_rate is None
    assert judge.pair("There is a cure for this condition.", "There is no cure for this condition.") == "contradiction"
    assert judge.pair("Aspirin lowers heart attack risk.", "Aspirin reduces the risk of heart attacks.") == "entailment"


def test_best_threshold_separates_scores() -> None:
    t = best_threshold([0.8, 0.9, 0.7], [0.2, 0.3, 0.75])
    assert 0.3 < t.threshold <= 0.7 and t.false_negative_rate == 0.0
    assert t.false_positive_rate == pytest.approx(1 / 3, abs=1e-4)
    assert t.balanced_accuracy == pytest.approx(5 / 6, abs=1e-4)


def test_baseline_directions_tolerance_and_missing() -> None:
    base = [MetricsRow("hybrid", "s", 10, 5, {"ndcg@10": 0.60, "abstain_answerable": 0.10, "rougeL_f": 0.30,
                                              "latency_p50_ms": 10.0, "abstain_oos": 0.9}),
            MetricsRow("bm25", "other-set", 10, 0, {"ndcg@10": 0.5})]
    now = [MetricsRow("hybrid", "s", 10, 5, {"ndcg@10": 0.585, "abstain_answerable": 0.13, "rougeL_f": 0.32,
                                             "latency_p50_ms": 99.0})]
    names = {r.metric for r in compare(now, base, tolerance=0.01)}
    # ndcg fell 0.015, abstention on answerable rose 0.03 (lower is better), abstain_oos vanished;
    # latency is never compared and a set that was not evaluated is not a regression.
    assert names == {"ndcg@10", "abstain_answerable", "abstain_oos"}
    assert compare(now, base, tolerance=0.05) == [r for r in compare(now, base, 0.05) if r.current is None]
