"""The corpus's own vocabulary for query understanding.

Terms come from three places: each document's `topics` and title (conditions), the team-written drug table
(`service/data/drugs.yaml`: generic names, other spellings, brands, classes) and the lay-term table
(`service/data/lay_terms.yaml`). Every term knows the documents that list it as a topic and the documents whose
text names it. Matching runs on stemmed tokens so that "seizures" finds "seizure".
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any, Literal

import yaml

from ingest import Document, split_sections

TermKind = Literal["condition", "drug", "drug_class", "procedure"]
Key = tuple[str, ...]
_YAML = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe parser when the wheel has it: ~8x faster

_TOKEN = re.compile(r"[a-z0-9]+")
_POSSESSIVE = re.compile(r"['’]s\b")
MAX_TERM_TOKENS = 6
_EPONYM = re.compile(r"([A-Z][a-z]+)['’]s (?:disease|palsy|syndrome|disorder)")


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer  # PyStemmer, already used by the keyword index

    return Stemmer.Stemmer("english")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens, possessives dropped ("Crohn's" → "crohn")."""
    return _TOKEN.findall(_POSSESSIVE.sub("", text.casefold().replace("’", "'")))


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """English frequency of a word on the Zipf scale (0 = unseen, 7 = 'the')."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def stem_all(words: Sequence[str]) -> list[str]:
    """Stemmed tokens; short tokens, numbers and words rare in English (drug and brand names: "Evenity" must
    not become "even") are kept as they are."""
    stems: list[str] = _stemmer().stemWords([w for w in words])
    return [w if len(w) <= 3 or w.isdigit() or (s != w and zipf(w) < 2.5 and zipf(s) >= 3.0) else s
            for w, s in zip(words, stems, strict=True)]


@lru_cache(maxsize=65536)
def stems_of(text: str) -> tuple[str, ...]:
    """Stemmed tokens of a text, cached: evidence passages and sentences recur across questions."""
    return tuple(stem_all(tokens(text)))


def key_of(text: str) -> Key:
    """The stemmed token tuple a phrase is matched by."""
    return stems_of(text)


@dataclass(slots=True)
class Term:
    """A subject the corpus knows: its name, the spellings that mention it, and the documents about it."""

    name: str
    kind: TermKind
    keys: set[Key] = field(default_factory=set)  # stemmed spellings that count as mentioning it in a sentence
    related: set[Key] = field(default_factory=set)  # broader names (a drug's classes) that also put text on topic
    topic_docs: set[str] = field(default_factory=set)  # documents that list it as a topic or title
    text_docs: set[str] = field(default_factory=set)  # documents whose text names it

    @property
    def on_topic_keys(self) -> set[Key]:
        """Spellings that put a passage on the term's topic: its own and its broader names."""
        return self.keys | self.related

    def about(self, stems: Sequence[str], doc_id: str) -> bool:
        """True when a passage or sentence (its stems, its document) is on this term's topic."""
        return doc_id in self.topic_docs or mentions_any(stems, self.on_topic_keys)

    @property
    def docs(self) -> set[str]:
        """Documents about the term: topic documents when there are any, else those naming it."""
        return self.topic_docs or self.text_docs


@dataclass(frozen=True, slots=True)
class DrugEntry:
    """One row of the drug-name table."""

    generic: str
    also: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()


def _strings(raw: Any) -> tuple[str, ...]:
    return tuple(str(v).strip() for v in raw or () if str(v).strip())


def load_drug_table(text: str | None = None) -> list[DrugEntry]:
    """The team-written brand → generic table (package data unless text is given)."""
    if text is None:
        path = resources.files("service").joinpath("data/drugs.yaml")
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    rows = yaml.load(text, Loader=_YAML) or []
    return [DrugEntry(str(r["generic"]).strip(), _strings(r.get("also")), _strings(r.get("brands")),
                      _strings(r.get("classes"))) for r in rows if isinstance(r, dict) and r.get("generic")]


_IN_POPULATION = re.compile(r"\s+in\s+(?:pregnancy|children|babies|infants|men|women|adults|older adults|the elderly|"
                            r"adolescents|teenagers)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Condition:
    """A condition of the team's table, and whether the corpus has a guideline on it (one of its spellings is, or
    is part of, a document topic or title)."""

    name: str
    covered: bool
    keys: frozenset[Key] = frozenset()  # every spelling of the table's entry
    topic_docs: frozenset[str] = frozenset()  # documents whose topics or title name it


def load_table(name: str, text: str | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """A team-written table of names and their other spellings: service/data/NAME.yaml unless text is given."""
    if text is None:
        path = resources.files("service").joinpath(f"data/{name}.yaml")
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
    rows = yaml.load(text, Loader=_YAML) or []
    return [(str(r["name"]).strip(), _strings(r.get("also"))) for r in rows if isinstance(r, dict) and r.get("name")]


def load_lay_terms(text: str | None = None) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Lay phrases and clinical shorthand, and the corpus terms they mean (package data unless text is given)."""
    if text is None:
        parts = [resources.files("service").joinpath(f"data/{name}.yaml") for name in ("lay_terms", "abbreviations")]
        rows = [r for p in parts if p.is_file() for r in yaml.load(p.read_text(encoding="utf-8"), Loader=_YAML) or []]
    else:
        rows = yaml.load(text, Loader=_YAML) or []
    return [(_strings(r.get("lay")), _strings(r.get("means"))) for r in rows if isinstance(r, dict)]


_GENERIC_STEMS = frozenset({"test", "scan", "screen", "check", "procedur", "surgeri"})


class Vocabulary:
    """Terms of one corpus, keyed by stemmed spelling, plus every stemmed word its documents use."""

    def __init__(self, documents: Iterable[Document], drugs: Sequence[DrugEntry] | None = None,
                 lay_terms: Sequence[tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
                 conditions: Sequence[tuple[str, tuple[str, ...]]] | None = None,
                 procedures: Sequence[tuple[str, tuple[str, ...]]] | None = None) -> None:
        docs = list(documents)
        self.by_key: dict[Key, Term] = {}
        df: dict[str, int] = defaultdict(int)
        surface: set[str] = set()
        pairs: set[tuple[str, str]] = set()  # adjacent words, as typed: "hay fever" lets "hayfever" be split
        doc_stems: dict[str, list[str]] = {}
        for doc in docs:
            raw = tokens(" ".join((doc.title, *doc.topics, doc.text)))
            surface.update(w for w in raw if len(w) >= 5 and w.isalpha())
            pairs.update(pairwise(raw))
            doc_stems[doc.id] = stems = stem_all(raw)
            for w in set(stems):
                df[w] += 1
        self.words: set[str] = set(df)  # stemmed
        self.word_pairs = frozenset(pairs)
        self.document_frequency = dict(df)
        self.documents = len(docs)
        # Guidelines a question can name: by issuer acronym ("GINA", "ACOG") and by year ("2018").
        self.issuer_docs: dict[str, set[str]] = defaultdict(set)
        self.year_docs: dict[str, set[str]] = defaultdict(set)
        for doc in docs:
            for part in re.split(r"[/ ]+", doc.issuer):
                if len(part) >= 3 and part.isupper() and part.isalpha():
                    self.issuer_docs[part.casefold()].add(doc.id)
            if doc.year:
                self.year_docs[str(doc.year)].add(doc.id)
        for doc in docs:
            for topic in (*doc.topics, doc.title):
                term = self._term(topic, "condition")
                term.topic_docs.add(doc.id)
            self._merge_acronyms(doc.topics)
        for doc in docs:  # "Parkinson's" alone names Parkinson's disease, "Bell's" Bell's palsy
            for topic in doc.topics:
                if (m := _EPONYM.fullmatch(topic.strip())) and key_of(m.group(1)) not in self.by_key:
                    self._alias(m.group(1), self.by_key[key_of(topic)])
        for entry in drugs if drugs is not None else load_drug_table():
            generic = self._term(entry.generic, "drug")
            for spelling in (*entry.also, *entry.brands):
                self._alias(spelling, generic)
            for name in entry.classes:
                cls = self._term(name, "drug_class")
                cls.keys.update(generic.keys)  # naming a member drug is naming the class
                generic.related.add(key_of(name))  # a passage on "ACE inhibitors" is about lisinopril too
        self.expansions: dict[str, list[str]] = {}  # one-word shorthand → the corpus's words for it
        means_of: dict[Key, list[Key]] = defaultdict(list)  # a lay spelling → the corpus terms it means
        for lay, means in lay_terms if lay_terms is not None else load_lay_terms():
            targets = [self.by_key[k] for k in (key_of(m) for m in means) if k in self.by_key]
            for phrase in lay:
                means_of[key_of(phrase)].extend(k for k in map(key_of, means) if k)
                existing = self.by_key.get(key_of(phrase))
                if targets:
                    self._alias(phrase, targets[0])
                elif existing is not None and means:
                    existing.keys.update(key_of(m) for m in means)  # "PPI" also means "proton pump inhibitor"
                elif means and len(tokens(phrase)) == 1 and all(w in df for w in key_of(means[0])):
                    self.expansions[tokens(phrase)[0]] = tokens(means[0])
        # Procedures, tests and devices (team table): one the corpus never names (no text_docs, found below) is
        # not answered from a guideline that merely uses its words ("total knee replacement", "spinal cord
        # stimulator"). Spellings that are already terms stay the corpus's own.
        described = any(d.topics for d in docs)
        for name, also in (procedures if procedures is not None else load_table("procedures")) if described else []:
            # A one-word spelling that is a common English word ("massage", "yoga") names nothing by itself.
            procedure_keys = {k for x in (name, *also) if (k := key_of(x))
                              and (len(k) > 1 or x.isupper() or zipf(x.casefold()) < 4.0)}
            # "specific IgE test" is named where the corpus names "specific IgE".
            procedure_keys |= {k[:-1] for k in procedure_keys if len(k) >= 3 and k[-1] in _GENERIC_STEMS}
            if procedure_keys and not any(k in self.by_key for k in procedure_keys):
                procedure = Term(name, "procedure", procedure_keys)
                for key in procedure_keys:
                    self.by_key[key] = procedure
        # Conditions a question may name, each covered when one of its spellings is a document topic.
        # A topic that names a condition inside it ("HIV PrEP", "shingles vaccine") covers it too.
        # "X in pregnancy" is covered where X is: whether the guideline addresses that population is the gate's
        # population check, not a question of coverage.
        self.conditions: dict[Key, Condition] = {}
        # Every contiguous run of every topic's words, so a spelling is looked up rather than searched for.
        topic_runs: dict[Key, set[str]] = defaultdict(set)
        for d in docs:
            for key in (key_of(t) for t in (*d.topics, d.title)):
                for i in range(len(key)):
                    for j in range(i + 1, len(key) + 1):
                        topic_runs[key[i:j]].add(d.id)
        # A section of its own names what a guideline covers too ("## Animal bites" in the skin infection
        # guideline), though it is not among the topics.
        # The whole heading only: "Tetanus, shingles, HPV and hepatitis vaccines" is no section on tetanus.
        for d in docs:
            for heading in {title for section in split_sections(d) for title in section.path}:
                if key := key_of(heading):
                    topic_runs[key].add(d.id)
        # The team's lay words name a covered condition where what they mean does ("dog bite" → animal bites).
        # Only a corpus described by topics can say what it covers; research sets of bare passages (PubMedQA) do not.
        table = list(conditions if conditions is not None else load_table("conditions")) if described else []
        covered_names: set[str] = set()
        for name, also in table:
            keys = [k for k in (key_of(x) for x in (name, *also)) if k]
            keys += [m for k in keys for m in means_of.get(k, ())]
            if any((t := self.by_key.get(k)) is not None and t.topic_docs for k in keys) or any(
                    k in topic_runs for k in keys):
                covered_names.add(name.casefold())
        for name, also in table:
            base = _IN_POPULATION.sub("", name).casefold()
            spellings = frozenset(k for k in (key_of(x) for x in (name, *also)) if k)
            meant = [m for k in spellings for m in means_of.get(k, ())]
            about = frozenset().union(*(topic_runs.get(k, set()) for k in (*spellings, *meant)),
                                      *((t.topic_docs if (t := self.by_key.get(k)) else set()) for k in spellings))
            condition = Condition(name, name.casefold() in covered_names or base in covered_names, spellings, about)
            for key in spellings:
                self.conditions.setdefault(key, condition)
        # Which documents name each term: one pass over each document, keys looked up by their first word.
        by_first: dict[str, list[tuple[Key, Term]]] = defaultdict(list)
        for term in {id(t): t for t in self.by_key.values()}.values():
            for key in term.keys:
                by_first[key[0]].append((key, term))
        conditions_first: dict[str, list[tuple[Key, Condition]]] = defaultdict(list)
        for key, condition in self.conditions.items():
            conditions_first[key[0]].append((key, condition))
        self.condition_docs: dict[str, set[str]] = defaultdict(set)  # condition name → documents naming it
        for doc_id, stems in doc_stems.items():
            for i, word in enumerate(stems):
                for key, term in by_first.get(word, ()):
                    if tuple(stems[i:i + len(key)]) == key:
                        term.text_docs.add(doc_id)
                for key, condition in conditions_first.get(word, ()):
                    if tuple(stems[i:i + len(key)]) == key:
                        self.condition_docs[condition.name].add(doc_id)
        # Spellings a typo may be corrected to: words of the corpus and of term names (long enough to be safe).
        by_initial: dict[str, set[str]] = defaultdict(set)
        for spelled in surface | {w for t in self.by_key.values() for w in tokens(t.name) if len(w) >= 5}:
            by_initial[spelled[0]].add(spelled)
        self.spellings_by_initial = {k: sorted(v) for k, v in by_initial.items()}
        self._key_expanded_spellings()

    def _key_expanded_spellings(self) -> None:
        """A question's one-word lay terms read as the corpus's words before terms are looked up ("baby" →
        infants), so each spelling holding such a word is keyed under its expanded form too ("baby not moving")."""
        swap = {stem_all([w])[0]: tuple(stem_all(e)) for w, e in self.expansions.items()}

        def widened(key: Key) -> Key | None:
            wide = tuple(x for t in key for x in swap.get(t, (t,)))
            return wide if wide != key and len(wide) <= MAX_TERM_TOKENS else None

        for key, term in list(self.by_key.items()):
            if wide := widened(key):
                self.by_key.setdefault(wide, term)
        for key, condition in list(self.conditions.items()):
            if wide := widened(key):
                self.conditions.setdefault(wide, condition)

    def _term(self, name: str, kind: TermKind) -> Term:
        key = key_of(name)
        if not key:
            return Term(name, kind)
        term = self.by_key.get(key)
        if term is None:
            term = Term(name.strip(), kind, {key})
            self.by_key[key] = term
        elif kind == "drug" and term.kind != "drug":
            term.kind = "drug"  # a drug listed as a document topic is still a drug
            term.name = name.strip()
        return term

    def _merge_acronyms(self, topics: Sequence[str]) -> None:
        """A document's acronym topic ("CKD") and the topic it abbreviates ("chronic kidney disease") are one term."""
        for short in topics:
            if not (short.isupper() and 2 <= len(short) <= 6 and short.isalpha()):
                continue
            for long in topics:
                words = [w for w in tokens(long) if w not in ("of", "the", "and", "in", "with")]
                if len(words) == len(short) and "".join(w[0] for w in words) == short.casefold():
                    self._merge(self.by_key[key_of(long)], self.by_key[key_of(short)])

    def _merge(self, target: Term, other: Term) -> None:
        """Make `other` a synonym of `target` (its spellings and documents join target's)."""
        if target is other:
            return
        target.keys |= other.keys
        target.related |= other.related
        target.topic_docs |= other.topic_docs
        for key, term in list(self.by_key.items()):
            if term is other:
                self.by_key[key] = target

    def _alias(self, spelling: str, term: Term) -> None:
        """Another spelling of a term; a spelling that is already a term of its own (a brand listed as a topic,
        a class named like a shorthand) becomes one term with it."""
        key = key_of(spelling)
        if not key:
            return
        existing = self.by_key.get(key)
        if existing is None:
            self.by_key[key] = term
            term.keys.add(key)
        elif existing.kind == "condition" or term.kind != "condition":
            self._merge(term, existing)
        else:
            self._merge(existing, term)

    def conditions_in(self, stems: Sequence[str], longest: int = 6) -> list[tuple[int, int, Condition]]:
        """Table conditions a stemmed text names, longest spelling first: (start, end, condition)."""
        out: list[tuple[int, int, Condition]] = []
        i = 0
        while i < len(stems):
            for n in range(min(longest, len(stems) - i), 0, -1):
                condition = self.conditions.get(tuple(stems[i:i + n]))
                if condition is not None:
                    out.append((i, i + n, condition))
                    i += n - 1
                    break
            i += 1
        return out

    def idf(self, stem: str) -> float:
        """Inverse document frequency of a stemmed word (unseen words get the highest)."""
        return math.log((self.documents + 1) / (self.document_frequency.get(stem, 0) + 0.5))


def mentions_any(stems: Sequence[str], keys: Iterable[Key]) -> bool:
    """True when a stemmed token sequence contains one of the keys as a contiguous run."""
    present = set(stems)
    for key in keys:
        if key[0] not in present:
            continue
        n = len(key)
        if n == 1 or any(tuple(stems[i:i + n]) == key for i in range(len(stems) - n + 1)):
            return True
    return False
