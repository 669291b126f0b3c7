"""The tolerant parser of model replies and the quantity matcher the verifier relies on."""

from __future__ import annotations

import pytest

from medcite.errors import LLMError
from service.drafts import from_object, parse, split_cited
from service.quantities import unsupported_quantities


def test_json_in_prose_or_fences_is_read() -> None:
    reply = 'Here you go:\n```json\n{"summary": [{"text": "Give X.", "citations": [2]}], "key_points": []}\n```'
    assert [(s.text, s.citations, s.part) for s in parse(reply)] == [("Give X.", (2,), "summary")]


def test_plain_text_with_markers_and_a_key_points_heading() -> None:
    reply = ("Start metformin first [1]. Add an SGLT2 inhibitor in heart failure [2][3].\n\n"
             "Key points:\n- Check eGFR yearly [1, 2].\n\nReferences\n[1] ADA 2025")
    got = [(s.text, s.citations, s.part) for s in parse(reply)]
    assert got == [("Start metformin first.", (1,), "summary"),
                   ("Add an SGLT2 inhibitor in heart failure.", (2, 3), "summary"),
                   ("Check eGFR yearly.", (1, 2), "key_points")]


def test_other_key_names_and_string_citations_are_accepted() -> None:
    got = parse({"answer": [{"sentence": "Use A.", "sources": ["[3]", "4"]}], "points": ["B is second line [5]."]})
    assert [(s.text, s.citations, s.part) for s in got] == [("Use A.", (3, 4), "summary"),
                                                             ("B is second line.", (5,), "key_points")]


def test_a_partial_stream_object_holds_back_the_item_being_written() -> None:
    partial = {"summary": [{"text": "One.", "citations": [1]}, {"text": "Tw", "citations": []}]}
    assert [s.text for s in from_object(partial, final=False)] == ["One."]
    assert [s.text for s in from_object({**partial, "key_points": []}, final=False)] == ["One.", "Tw"]


def test_a_reply_without_sentences_is_an_llm_error() -> None:
    with pytest.raises(LLMError):
        parse("")
    with pytest.raises(LLMError):
        parse({"summary": [], "key_points": []})


def test_markers_stay_with_their_sentence() -> None:
    assert split_cited("A is first line. [1] B follows [2]. C.") == [("A is first line.", (1,)),
                                                                    ("B follows.", (2,)), ("C.", ())]


@pytest.mark.parametrize(("sentence", "evidence", "missing"), [
    ("Give 1000 mg daily for 14 days.", "Give 1 g daily for 2 weeks.", []),
    ("Give 1000 mg daily for 10 days.", "Give 1 g daily for 2 weeks.", ["10 days"]),
    ("Take 2 g a day.", "Take 2 mg a day.", ["2 g"]),
    ("75 to 100 mg per day", "low-dose aspirin 75-100 mg daily", []),
    ("at least 2.5 hours a week", "at least 150 minutes per week", []),
    ("adults aged 45 to 49", "adults aged 45 to 49 years", []),
    ("COVID-19 in type 2 diabetes", "type 2 diabetes", []),
    ("HbA1c below 7%", "HbA1c below 7.5%", ["7%"]),
])
def test_numbers_with_units_must_be_stated_in_any_unit_of_the_same_kind(sentence: str, evidence: str,
                                                                       missing: list[str]) -> None:
    assert unsupported_quantities(sentence, evidence) == missing
