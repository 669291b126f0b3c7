"""Ages in questions and age ranges in guideline sentences, so "mammogram at 80" prefers "75 and older".

A question names at most one patient's age ("80 year old", "I'm 66", "18 month old", "62yo"). A sentence
states eligibility by age in a few shapes ("aged 40 to 74", "50-80 years", "65 and older", "older than 65",
"under 2 years", "6 to 23 months"). Ages are in years; months count as twelfths. Durations ("for 3 to 5
years", "every 3 years") are not ages.
"""

from __future__ import annotations

import re

_UNIT = r"(?P<unit>years?|yrs?|months?|mo)"
_QUESTION_AGE = [
    re.compile(r"\b(?P<n>\d{1,3})[- ]?(?:" + _UNIT + r"[- ]?old|yo|y/o|y\.o\.|yr[- ]old)\b", re.IGNORECASE),
    re.compile(r"\b(?:aged?|I'?m|I am|he'?s|she'?s|at age|is)\s+(?P<n>\d{1,3})\b"
               r"(?!\s*(?:%|mg|kg|g\b|mm|cm|weeks?|days?))", re.IGNORECASE),
]
_NOT_AGE = r"(?<!for )(?<!every )(?<!after )(?<!within )(?<!last )(?<!past )(?<!over the )"
_RANGE = re.compile(
    _NOT_AGE + r"\b(?P<cue>aged?\s+|ages\s+|between\s+)?(?P<lo>\d{1,3})(?!\d)\s?(?:-|–|to|and)\s?"
    r"(?P<hi>\d{1,3})(?!\d)\s?(?P<unit>years?|months?|year-olds?)?(?P<old>[- ]old)?"
    r"(?!\s?(?:days?|weeks?|hours?|minutes?|mg|%|/))",
    re.IGNORECASE)
_ABOVE = re.compile(
    r"\b(?:(?:aged?\s+)?(?P<a>\d{1,3})\s?(?:years?\s+)?(?P<u1>months?\s+)?(?:and|or)\s+(?:older|over|above)|"
    r"(?:older than|over(?: the age of)?|above(?: age)?|from(?: age)?|at least)\s+(?:age\s+)?(?P<b>\d{1,3})\s?"
    r"(?P<u2>years?|months?)|(?:older than|over the age of|from age|aged over)\s+(?P<c>\d{1,3})|(?P<d>\d{1,3})\+)",
    re.IGNORECASE)
_BELOW = re.compile(
    r"\b(?:younger than|under(?: the age of)?|below(?: age)?|less than)\s+(?:age\s+)?(?P<n>\d{1,3})\s?"
    r"(?P<unit>years?|months?)?", re.IGNORECASE)


def _years(n: str, unit: str | None) -> float:
    value = float(n)
    return value / 12 if unit and unit.casefold().startswith("mo") else value


def question_age(question: str) -> float | None:
    """The patient's age in years when the question states one."""
    for pattern in _QUESTION_AGE:
        m = pattern.search(question)
        if m:
            age = _years(m.group("n"), m.groupdict().get("unit"))
            if 0 < age < 120:
                return age
    return None


def sentence_ages(text: str) -> list[tuple[float, float]]:
    """Age ranges (years, inclusive) a sentence states."""
    out: list[tuple[float, float]] = []
    for m in _RANGE.finditer(text):
        unit = m.group("unit")
        if not (m.group("cue") or (unit and (m.group("old") or unit.casefold().startswith(("year-old", "month"))))
                or (unit and m.group("cue") is None and re.search(r"\b(?:aged?|adults?|people|women|men|children)\s*$",
                                                                 text[: m.start()], re.IGNORECASE))):
            continue
        lo, hi = _years(m.group("lo"), unit), _years(m.group("hi"), unit)
        if lo < hi < 120:
            out.append((lo, hi + (1 / 12 if unit and unit.casefold().startswith("month") else 0.999)))
    for m in _ABOVE.finditer(text):
        n = m.group("a") or m.group("b") or m.group("c") or m.group("d")
        unit = m.group("u1") or m.group("u2")
        if m.group("b") and not (unit and unit.casefold().startswith(("year", "month"))):
            continue
        age = _years(n, unit)
        if age < 120:
            out.append((age, 150.0))
    for m in _BELOW.finditer(text):
        unit = m.group("unit")
        if unit is None and not re.search(r"\b(?:younger than|under the age of|below age)", m.group(0), re.IGNORECASE):
            continue
        out.append((0.0, _years(m.group("n"), unit) - 1e-6))
    return out


def age_fit(age: float | None, text: str) -> float:
    """1 when the sentence states an age range holding the age, -1 when it states only others, else 0."""
    if age is None:
        return 0.0
    ranges = sentence_ages(text)
    if not ranges:
        return 0.0
    return 1.0 if any(lo <= age <= hi for lo, hi in ranges) else -1.0
