"""Numbers with units in clinical text (doses, durations, thresholds), normalised so "1 g" equals "1000 mg"."""

from __future__ import annotations

import re
from dataclasses import dataclass

# unit spelling → (dimension, factor to the dimension's base unit)
_UNITS: dict[str, tuple[str, float]] = {}
for names, dim, factor in (
    (("mcg", "µg", "ug", "microgram", "micrograms"), "mass", 0.001),
    (("mg", "milligram", "milligrams"), "mass", 1.0),
    (("g", "gram", "grams", "gm"), "mass", 1000.0),
    (("kg", "kilogram", "kilograms"), "mass", 1_000_000.0),
    (("ml", "millilitre", "millilitres", "milliliter", "milliliters"), "volume", 1.0),
    (("l", "litre", "litres", "liter", "liters"), "volume", 1000.0),
    (("second", "seconds", "sec", "secs"), "time", 1 / 3600),
    (("minute", "minutes", "min", "mins"), "time", 1 / 60),
    (("hour", "hours", "h", "hr", "hrs"), "time", 1.0),
    (("day", "days"), "time", 24.0),
    (("week", "weeks", "wk", "wks"), "time", 168.0),
    (("month", "months"), "time", 730.0),
    (("year", "years", "yr", "yrs"), "time", 8760.0),
    (("%", "percent", "per cent"), "percent", 1.0),
    (("mmhg",), "pressure", 1.0),
    (("unit", "units", "iu", "international units"), "unit", 1.0),
    (("mmol/l", "mmol"), "mmol/l", 1.0),
    (("mg/dl",), "mg/dl", 1.0),
    (("kg/m2", "kg/m²"), "bmi", 1.0),
    (("puffs", "puff", "inhalations", "inhalation"), "puff", 1.0),
    (("tablets", "tablet", "capsules", "capsule", "doses", "dose"), "dose", 1.0),
):
    for name in names:
        _UNITS[name] = (dim, factor)

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "ninety": 90, "hundred": 100, "half": 0.5,
}
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\.\d+)"
_WORD = "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))
_UNIT = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_PER = r"(?:\s*(?:/|per)\s*(?:kg|m2|m²|day|d|dose|hour|h|week|min|minute|l|litre|liter|dl)\b)*"
_QUANTITY = re.compile(
    rf"(?<![\w.])(?P<a>{_NUM}|{_WORD})"
    rf"(?:\s*(?:-|–|—|to|or|and)\s*(?P<b>{_NUM}|{_WORD}))?"
    rf"(?:\s*-?\s*(?P<unit>{_UNIT})(?P<per>{_PER}))?(?![\w])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Quantity:
    """A value in its dimension's base unit; dimension "" is a bare number."""

    value: float
    dimension: str
    text: str
    raw: float = 0.0  # the number as written, before unit conversion

    def matches(self, other: Quantity) -> bool:
        """The same value in the same dimension; a bare number matches the same number written with any unit."""
        if not self.dimension:
            return abs(self.raw - other.raw) <= 1e-9 * max(1.0, abs(self.raw))
        return self.dimension == other.dimension and abs(self.value - other.value) <= 1e-6 * max(1.0, abs(self.value))


def _number(text: str) -> float | None:
    word = _WORD_NUMBERS.get(text.casefold())
    if word is not None:
        return float(word)
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def quantities(text: str) -> list[Quantity]:
    """Every number in a text with its unit, ranges as both ends ("10-20 mg" → 10 mg, 20 mg).

    Numbers inside names ("COVID-19", "A1c", "IL-6") are not quantities; written numbers count only with a unit.
    """
    out: list[Quantity] = []
    for m in _QUANTITY.finditer(text):
        unit = (m["unit"] or "").casefold()
        a, b = m["a"], m["b"]
        if not unit and (a.casefold() in _WORD_NUMBERS or (b and b.casefold() in _WORD_NUMBERS)):
            continue
        start = m.start()
        if start > 0 and text[start - 1] in "-/" and start > 1 and text[start - 2].isalpha():
            continue  # "COVID-19", "HbA1c/6"
        dim, factor = _UNITS.get(unit, ("", 1.0))
        per = re.sub(r"\s+", "", (m["per"] or "").casefold()).replace("per", "/")
        # "per day", "a week": how often is not part of the quantity ("75 mg daily" = "75 mg per day").
        per = re.sub(r"/(?:day|d|week|hour|h|min|minute|dose)\b", "", per)
        if dim and per:
            dim = f"{dim}{per}"
        for part in (a, b):
            if not part:
                continue
            value = _number(part)
            if value is not None:
                out.append(Quantity(value * factor, dim, m.group(0).strip(), value))
    return out


def unsupported_quantities(sentence: str, evidence: str) -> list[str]:
    """The sentence's quantities that the evidence does not state (in any unit of the same dimension)."""
    found = quantities(evidence)
    missing = []
    for q in quantities(sentence):
        if not any(q.matches(f) for f in found):
            missing.append(q.text)
    return list(dict.fromkeys(missing))
