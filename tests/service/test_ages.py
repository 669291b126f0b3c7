"""Ages stated in questions against age ranges stated in guideline sentences."""

from __future__ import annotations

import pytest

from service.ages import age_fit, question_age, sentence_ages


@pytest.mark.parametrize(("question", "age"), [
    ("mammogram for an 80 year old?", 80.0),
    ("I'm 66 and my smears were normal", 66.0),
    ("how long for an 18 month old?", 1.5),
    ("61 yo man with anaemia", 61.0),
    ("22yo starting sertraline", 22.0),
    ("Beyfortus dose for a 4 kg newborn", None),  # a weight, not an age
    ("Amoxicillin for 7 days?", None),
])
def test_question_age(question: str, age: float | None) -> None:
    assert question_age(question) == age


@pytest.mark.parametrize(("sentence", "ranges"), [
    ("Screen women aged 40 to 74 every 2 years.", [(40.0, 74.999)]),
    ("For women 75 and older the evidence is insufficient.", [(75.0, 150.0)]),
    ("Stop in women older than 65 years with adequate screening.", [(65.0, 150.0)]),
    ("Children aged 6 to 23 months with mild disease.", [(0.5, 2.0)]),
    ("A 10-day course for children under 2 years.", [(0.0, 2.0 - 1e-6)]),
    ("Treat for 3 to 5 years.", []),  # a duration
    ("Screening every 3 years is enough.", []),
    ("Between 21 and 42 days postpartum the risk falls.", []),  # days, not ages
])
def test_sentence_ages(sentence: str, ranges: list[tuple[float, float]]) -> None:
    found = sentence_ages(sentence)
    assert len(found) == len(ranges)
    for (lo, hi), (want_lo, want_hi) in zip(found, ranges, strict=True):
        assert lo == pytest.approx(want_lo) and hi == pytest.approx(want_hi, abs=1e-3)


def test_age_fit_prefers_the_range_holding_the_age() -> None:
    assert age_fit(80, "For women aged 75 and older, evidence is insufficient.") == 1.0
    assert age_fit(80, "Screen women aged 40 to 74.") == -1.0
    assert age_fit(80, "Mammograms can give false alarms.") == 0.0
    assert age_fit(None, "Screen women aged 40 to 74.") == 0.0
