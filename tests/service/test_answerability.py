"""Answerability on the bundled corpus (real index, real model): on-topic leads, named abstentions, follow-ups."""

from __future__ import annotations

import re

import pytest

from service import Answer, AnswerService

pytestmark = pytest.mark.slow


def lead(answer: Answer) -> list[str]:
    return [s.text for s in answer.summary_sentences]


def test_brand_name_dose_question_is_answered_from_the_analgesia_guideline(answer_service: AnswerService) -> None:
    answer = answer_service.ask("How much Tylenol can I take in a day?")
    assert not answer.abstained
    assert answer.trace.terms == ("paracetamol",) and answer.trace.ask == "dose"
    assert "analgesia" in answer.references[0].doc_id
    assert re.search(r"\b4 g\b", lead(answer)[0]), lead(answer)[0]  # the maximum daily dose leads


def test_duration_question_leads_with_the_duration_asked_for(answer_service: AnswerService) -> None:
    answer = answer_service.ask("How long should anticoagulation continue after a provoked deep vein thrombosis?")
    assert answer.references[0].doc_id == "vte-treatment-chest-2021"
    first = lead(answer)[0]
    assert "provoked" in first and "3-month" in first, first
    cited = {answer.references[n - 1].doc_id for s in answer.summary_sentences for n in s.citations}
    assert cited == {"vte-treatment-chest-2021"}, "every lead sentence is about VTE"


def test_follow_up_stays_on_the_conversation_subject(answer_service: AnswerService) -> None:
    first = answer_service.ask("How long should anticoagulation continue after a provoked deep vein thrombosis?")
    follow = answer_service.ask("What about in pregnancy?", conversation_id=first.conversation_id,
                                conversation_secret=first.conversation_secret)
    assert "deep vein thrombosis" in follow.query
    assert follow.trace.populations == ("pregnancy",)
    if follow.abstained:  # the VTE digest does not address pregnancy: say so about DVT, not about another topic
        assert "deep vein thrombosis" in follow.abstention_reason and "pregnancy" in follow.abstention_reason
    else:
        assert all("pregnan" in s.lower() for s in lead(follow))


def test_interaction_lead_is_about_the_drug_and_the_interaction(answer_service: AnswerService) -> None:
    answer = answer_service.ask("Can I drink alcohol while taking metronidazole?")
    if not answer.abstained:
        for sentence in lead(answer):
            assert "metronidazole" in sentence.lower() and "alcohol" in sentence.lower(), sentence


@pytest.mark.parametrize(("question", "subject"), [
    ("What is the treatment for tinea pedis?", "tinea pedis"),
    ("Does Qelbree work for ADHD?", "Qelbree"),
])
def test_uncovered_subjects_abstain_naming_them(answer_service: AnswerService, question: str, subject: str) -> None:
    answer = answer_service.ask(question)
    assert answer.abstained and not answer.references
    assert subject in answer.abstention_reason
    assert answer.nearest_topics, "nearest covered topics are offered"
    assert answer.trace.gate_abstained and answer.trace.signals is not None


def test_every_lead_sentence_names_the_subject_or_comes_from_its_guideline(answer_service: AnswerService) -> None:
    answer = answer_service.ask("What is the first-line treatment for gout flares?")
    assert not answer.abstained
    for sentence in answer.summary_sentences:
        doc = answer.references[sentence.citations[0] - 1].doc_id
        assert "gout" in doc or "gout" in sentence.text.lower(), (doc, sentence.text)


@pytest.mark.parametrize(("question", "condition"), [
    ("Does taking Valtrex every day help if I get cold sores several times a year?", "cold sores"),
    ("Lynch syndrome - colonoscopy every 1 to 2 years starting at what age?", "Lynch syndrome"),
    ("First-line psychological therapy for social anxiety disorder in adults?", "social anxiety disorder"),
])
def test_a_condition_no_guideline_covers_abstains_though_its_drug_or_test_is_covered(
        answer_service: AnswerService, question: str, condition: str) -> None:
    answer = answer_service.ask(question)
    assert answer.abstained and condition in answer.abstention_reason
    assert answer.trace.signals is not None and condition in answer.trace.signals.uncovered_conditions


@pytest.mark.parametrize("question", [
    "Should I get the shingles vaccine at 60?",  # the condition is part of a covered topic
    "Is PrEP recommended for someone whose partner has HIV?",
    "MG patient with a UTI — can I give ciprofloxacin?",  # two covered conditions
    "Smoker with schizophrenia — is varenicline safe or should I stick to NRT?",  # a comorbidity the drug's
])                                                                                # guideline discusses
def test_covered_conditions_and_comorbidities_are_answered(answer_service: AnswerService, question: str) -> None:
    answer = answer_service.ask(question)
    assert not answer.abstained, answer.abstention_reason
    assert answer.trace.signals is not None and not (
        answer.trace.signals.uncovered_conditions and not answer.trace.signals.covered_conditions)


@pytest.mark.parametrize(("question", "drug", "condition"), [
    ("Does allopurinol help psoriasis?", "allopurinol", "psoriasis"),
    ("Can amoxicillin treat gout?", "amoxicillin", "gout"),
])
def test_a_drug_no_passage_ties_to_the_asked_condition_abstains(
        answer_service: AnswerService, question: str, drug: str, condition: str) -> None:
    answer = answer_service.ask(question)
    assert answer.abstained and not answer.references
    assert drug in answer.abstention_reason and condition in answer.abstention_reason
    assert answer.trace.signals is not None and answer.trace.signals.unpaired == (drug,)


def test_a_drug_and_condition_one_passage_names_together_are_answered(answer_service: AnswerService) -> None:
    # The hypothyroidism guideline says thyroid hormone is not for depression: that passage ties the two.
    answer = answer_service.ask("Is levothyroxine useful for depression?")
    assert not answer.abstained, answer.abstention_reason
    assert "depression" in answer.summary.lower()


def test_a_question_about_men_needs_evidence_about_men(answer_service: AnswerService) -> None:
    # The corpus's osteoporosis guidelines are about postmenopausal women.
    answer = answer_service.ask("What bisphosphonate should a 75-year-old man with osteoporosis take?")
    assert answer.abstained and "men" in answer.abstention_reason


@pytest.mark.parametrize(("question", "procedure"), [
    ("How soon after a vasectomy can I stop using condoms?", "vasectomy"),
    ("My mum is getting a hip replacement - how long will she need blood thinners?", "hip replacement"),
])
def test_a_procedure_the_corpus_never_names_abstains_naming_it(
        answer_service: AnswerService, question: str, procedure: str) -> None:
    answer = answer_service.ask(question)
    assert answer.abstained and not answer.references
    assert procedure in answer.abstention_reason
