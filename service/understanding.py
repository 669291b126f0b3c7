"""Query understanding: the question's subject (mapped to the corpus's vocabulary) and what it asks.

A small typed step before retrieval, with no model call: tokens are typo-corrected against the corpus's own
spellings (rapidfuzz), matched to terms (topics, drug table, lay terms), and words the corpus never uses that are
rare in English (wordfreq) are kept as *unknown subjects*, which the answerability gate refuses to answer.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from medcite.config import AnswerabilitySettings
from service.asks import Ask, detect_ask, object_spans
from service.lexicon import family_zipf, place_words, split_compound
from service.vocabulary import MAX_TERM_TOKENS, Key, Term, Vocabulary, stem_all, zipf

# Population qualifiers: they narrow the subject rather than name a new one.
POPULATIONS: dict[str, re.Pattern[str]] = {p: re.compile(rf"{r}\b", re.IGNORECASE) for p, r in {
    "pregnancy": r"\b(?:pregnan\w*|expecting a baby|trimester|antenatal|prenatal|conceiv\w*|conception)",
    "breastfeeding": r"\b(?:breast ?-?fe(?:e)?d\w*|breast-?fed|lactat\w*|nursing mother|breast ?milk)",
    "children": r"\b(?:child\w*|kids?|paediatric|pediatric|infants?|bab(?:y|ies)|toddlers?|newborns?|"
                r"adolescents?|teen\w*|juvenile|neonat\w*|(?:my )?(?:son|daughter))",
    "older adults": r"\b(?:elderly|older (?:adults?|people|patients?|person)|geriatric|over (?:65|70|75|80))",
    "kidney disease": r"\b(?:kidney (?:disease|failure|impairment|function)|renal|ckd|egfr|dialysis)",
    "liver disease": r"\b(?:liver (?:disease|failure|impairment)|hepatic|cirrhosis)",
    "men": r"\b(?:men|man|males?)",
}.items()}

# Words that carry no subject: function words, question words, generic care words.
_STOP_WORDS = """
a about above after again against all also am an and any are as at be been before being below between both but
by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours out over own same she should so some such than that the their theirs them then there
these they this those through to too under until up very was we were what when where which while who whom why
will with would you your yours yourself yourselves ok okay please thanks thank hi hello dr doctor doctors nurse
gp patient patients person people someone somebody anyone get got getting give given giving take taking took
taken use using used need needs needed want wants make makes know tell told say said go going good best better
bad right wrong safe okay recommend recommended recommendation recommendations guideline guidelines guidance
current latest new usual normal standard first line option options approach way ways thing things something
anything really still ever always usually often much many every day days week weeks month months year years time
times long soon first next last one two three four five six seven eight nine ten mg dose doses dosage treat
treating treated treatment treatments therapy therapies manage managing management medicine medicines medication
medications drug drugs pill pills tablet tablets cure help helps relief start started stop stopping continue
should must may might shall let lets like dosing dosed regimen regimens schedule course qualify qualifies
candidate candidates eligible worth try trying fine hasn doesn isn wasn won don didn shouldn couldn wouldn aren haven
weren can't ll ve re
"""
STOP = frozenset(_STOP_WORDS.split())
_CONTRACTIONS = frozenset({"im", "id"})
_CLAUSE_WORDS = frozenset({"and", "but", "so", "if", "because", "cause", "as", "when", "since", "now", "ok", "okay",
                           "though", "also", "hi", "hello"})
_DETERMINERS = frozenset({"his", "her", "their", "taking", "using", "eating", "drinking", "wearing", "doing"})
_PATIENT_WORDS = frozenset({"patient", "patients", "pt", "pts"})


@dataclass(frozen=True, slots=True)
class Mention:
    """A subject named in the question, as typed, and the corpus term it maps to."""

    text: str
    term: Term
    corrected_from: str = ""  # the typed spelling when a typo was corrected


@dataclass(frozen=True, slots=True)
class ConditionMention:
    """A condition of the team's table named in the question, and whether the corpus has a guideline on it."""

    text: str  # as typed
    name: str  # the table's name
    covered: bool
    keys: frozenset[Key] = frozenset()  # the table's spellings of it, stemmed
    docs: frozenset[str] = frozenset()  # documents about it (by topic or title)
    context: bool = False  # named as the patient's background ("a pneumonia patient"), not as what is treated


@dataclass(frozen=True, slots=True)
class UnknownTerm:
    """Adjacent words of the question that the corpus never uses; rare in English means likely a subject."""

    text: str
    zipf: float  # English word frequency on the Zipf scale (lowest of its words)


@dataclass(frozen=True, slots=True)
class QueryAnalysis:
    """What a question is about and what it asks."""

    question: str
    ask: Ask
    subjects: tuple[Mention, ...] = ()
    populations: tuple[str, ...] = ()
    unknown: tuple[UnknownTerm, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)  # IDF of the content words the corpus uses
    surface: dict[str, str] = field(default_factory=dict)  # stem → a typed spelling, for messages
    expanded: tuple[str, ...] = ()  # words that shorthand and typo corrections stand for
    named_docs: frozenset[str] = frozenset()  # guidelines the question names by issuer and/or year
    conditions: tuple[ConditionMention, ...] = ()  # conditions of the team's table the question names
    # Adjacent content words outside any subject ("knee replacement", "cord stimulator"), stemmed.
    pairs: tuple[tuple[str, str], ...] = ()
    absent_procedures: tuple[str, ...] = ()  # procedures or tests named that the corpus never names (as typed)
    absent_objects: tuple[str, ...] = ()  # what the question asks about ("will X help"), in words the corpus lacks

    @property
    def retrieval_query(self) -> str:
        """The question plus the corpus's names for subjects it named otherwise (a brand → its generic)."""
        lowered = self.question.casefold()
        extra = [m.term.name for m in self.subjects if m.term.name.casefold() not in lowered]
        extra += [w for w in self.expanded if w.casefold() not in lowered]
        return " ".join([self.question, *dict.fromkeys(extra)])

    @property
    def subject(self) -> str:
        """The subject in words, for messages and follow-ups."""
        if self.subjects:
            return " and ".join(dict.fromkeys(m.text for m in self.subjects))
        if self.unknown:
            return " ".join(u.text for u in self.unknown)
        return ""


_CHILD_ONLY = re.compile(r"\b(?:child\w*|kids?|paediatric|pediatric|toddlers?|adolescents?|teen\w*|son|daughter|"
                         r"infants?)\b", re.IGNORECASE)


def detect_populations(question: str) -> tuple[str, ...]:
    """Population qualifiers the question names (a baby in a breastfeeding question is not the patient)."""
    found = [p for p, cue in POPULATIONS.items() if cue.search(question)]
    if "children" in found and ("breastfeeding" in found or "pregnancy" in found) and not _CHILD_ONLY.search(question):
        found.remove("children")  # "won't hurt the baby": the baby of a pregnant or breastfeeding patient
    return tuple(found)


_TOKEN_SPAN = re.compile(r"[A-Za-z0-9]+(?:['’][sS]\b)?")
# A reading such as "185/122" is a blood pressure (systolic 70-260 above diastolic 30-160): a patient's way of
# naming the subject; 140/90 or more is high blood pressure.
_BP_READING = re.compile(r"\b(\d{2,3})\s?/\s?(\d{2,3})\b(?!\s?(?:mg|mcg|ml|units?|kg|years?)\b)")


def _name_reading(m: re.Match[str]) -> str:
    systolic, diastolic = int(m.group(1)), int(m.group(2))
    if not (70 <= systolic <= 260 and 30 <= diastolic <= 160 and systolic > diastolic):
        return m.group(0)
    return f"{m.group(0)} {'high ' if systolic >= 140 or diastolic >= 90 else ''}blood pressure"


@lru_cache(maxsize=1)
def _population_stems() -> frozenset[str]:
    """Stems of population words, which qualify a subject rather than name one (computed on first use)."""
    return frozenset(stem_all(["pregnancy", "pregnant", "breastfeeding", "children", "child", "adults",
                                "adult", "women", "men", "infants", "elderly", "kids", "baby"]))


def _surface(typed: list[tuple[str, str]]) -> str:
    """The words as typed; a word read as several ("toddler" → young children) is shown once."""
    shown = [t for j, (t, _) in enumerate(typed) if j == 0 or t != typed[j - 1][0]]
    return " ".join(shown)


class QueryAnalyzer:
    """Extracts subject, ask, populations and unknown terms against one corpus vocabulary."""

    def __init__(self, vocabulary: Vocabulary, settings: AnswerabilitySettings) -> None:
        self.vocabulary = vocabulary
        self.settings = settings
        # Place names that are not also words of a medical term ("Kawasaki disease", "Montreal Cognitive
        # Assessment", "Delhi belly" keep their words).
        term_words = {w for key in (*vocabulary.by_key, *vocabulary.conditions) for w in key}
        self.places = frozenset(p for p in place_words() if stem_all([p])[0] not in term_words)

    def _correct(self, word: str) -> str:
        """The corpus spelling a rare, unseen word is a typo of, or '' (conservative: same first letter; a swap of
        two neighbouring letters counts as one edit)."""
        s = self.settings
        if len(word) < s.typo_min_length or not word.isalpha() or zipf(word) >= s.typo_max_zipf:
            return ""
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        limit = s.typo_max_edits if len(word) >= s.typo_long_length else 1
        choices = self.vocabulary.spellings_by_initial.get(word[0], [])
        best = process.extractOne(word, choices, scorer=OSA.distance, score_cutoff=limit)
        return str(best[0]) if best else ""

    def analyze(self, question: str) -> QueryAnalysis:
        """Subject, ask, populations and unknown terms of one question."""
        vocab = self.vocabulary
        ask = detect_ask(question)
        typed: list[tuple[str, str]] = []
        starts: list[int] = []  # each token's offset in the text
        named: set[int] = set()  # capitalised words inside a sentence: names (brands, eponyms)
        expanded: list[str] = []
        reading = _BP_READING.sub(_name_reading, question)
        for m in _TOKEN_SPAN.finditer(reading):
            word = m.group(0).casefold().replace("’", "'").removesuffix("'s")
            before = reading[: m.start()].rstrip()
            if m.group(0)[:1].isupper() and not m.group(0).isupper() and before and before[-1] not in ".?!:;\"(":
                named.add(len(typed))
            # Clinical shorthand the corpus spells out ("DAPT", "nebs") reads as its expansion; "im" or "id" in
            # lower case opening a clause is "I'm" or "I'd" typed without the apostrophe, not IM or ID.
            expansion = None if word in _CONTRACTIONS and m.group(0).islower() and (
                not before or before[-1] in ",.?!:;-" or before.rsplit(None, 1)[-1].casefold() in _CLAUSE_WORDS
            ) else vocab.expansions.get(word)
            if expansion is None and stem_all([word])[0] not in vocab.words and \
                    (parts := split_compound(word, vocab.word_pairs)):
                expansion = list(parts)  # "hayfever" is the corpus's "hay fever"
            typed += [(m.group(0), w) for w in expansion] if expansion else [(m.group(0), word)]
            starts += [m.start()] * (len(expansion) if expansion else 1)
            expanded += expansion or []
        words = [w for _, w in typed]
        corrected = list(words)
        fixes: dict[int, str] = {}
        stems = stem_all(words)
        # Words spelling a term or condition of the team's tables as typed are not typos ("lichen planus" is not
        # "plans", "cellulite" is not cellulitis).
        spelled = {j for i in range(len(stems)) for n in range(1, min(MAX_TERM_TOKENS, len(stems) - i) + 1)
                   if (key := tuple(stems[i:i + n])) in vocab.conditions or key in vocab.by_key
                   for j in range(i, i + n)}
        for i, w in enumerate(words):
            if stems[i] in vocab.words or w in STOP or (stems[i],) in vocab.by_key or i in spelled:
                continue
            fix = self._correct(w)
            if fix:
                corrected[i] = fix
                fixes[i] = w
        stems = stem_all(corrected)
        used = [False] * len(stems)
        mentions: list[Mention] = []
        absent: list[str] = []  # procedures and tests of the team's table that the corpus never names
        spans: list[tuple[int, int]] = []  # each mention's tokens
        via_class: list[tuple[int, int, int, list[Term]]] = []  # mention, its tokens, the classes it counts by
        i = 0
        while i < len(stems):
            for n in range(min(MAX_TERM_TOKENS, len(stems) - i), 0, -1):
                key = tuple(stems[i:i + n])
                term = vocab.by_key.get(key)
                if term is None or all(k in STOP for k in key) or (n == 1 and key[0] in _population_stems()):
                    continue
                original = typed[i][0]
                if n == 1 and len(key[0]) <= 3 and not original.isupper() and zipf(words[i]) >= 3.0:
                    continue  # "add", "ms", "pe" typed in lower case are words, not ADD, MS, PE
                if term.kind == "procedure":  # a procedure or test of the team's table
                    if term.docs:
                        continue  # the corpus names it: its words count as any others do
                    absent.append(_surface(typed[i:i + n]))
                    used[i:i + n] = [True] * n
                    i += n - 1
                    break
                if not term.docs:
                    # A drug the corpus never names counts through a class of it that the corpus discusses
                    # ("ramipril" through "ACE inhibitor", whose passages are then on its topic), though not for
                    # its dose, which no class guidance states; else it is judged as an unknown word instead.
                    classes = [c for k in sorted(term.related) if (c := vocab.by_key.get(k)) and c.docs]
                    if not classes or ask is Ask.DOSE:
                        continue
                    via_class.append((len(mentions), i, i + n, classes))
                text = _surface(typed[i:i + n])
                mentions.append(Mention(text, term, " ".join(fixes[j] for j in range(i, i + n) if j in fixes)))
                spans.append((i, i + n))
                for j in range(i, i + n):
                    used[j] = True
                i += n - 1
                break
            i += 1
        # The class must be discussed where the question's other subjects are ("Rinvoq for Crohn's disease": the
        # corpus discusses JAK inhibitors for rheumatoid arthritis only); its names then join the retrieval query.
        context = set().union(*(m.term.docs for m in mentions if m.term.docs))
        dropped: set[int] = set()
        for j, start, end, classes in via_class:
            if context and context.isdisjoint(set().union(*(c.topic_docs | c.text_docs for c in classes))):
                dropped.add(j)
                used[start:end] = [False] * (end - start)
            else:
                expanded += list(dict.fromkeys(c.name for c in classes))
        mentions = [m for j, m in enumerate(mentions) if j not in dropped]
        spans = [sp for j, sp in enumerate(spans) if j not in dropped]
        conditions = self._conditions(stems, typed, mentions, spans)
        # Two drugs set side by side with "or" ("LMWH or a DOAC?", "Coumadin or Eliquis for a DVT") ask which.
        drugs = [sp for m, sp in zip(mentions, spans, strict=True) if m.term.kind in ("drug", "drug_class")]
        between = [reading[starts[a[1] - 1]:starts[b[0]]].casefold() for a, b in itertools.pairwise(drugs)]
        if ask in (Ask.OTHER, Ask.TREATMENT) and any(" or " in f" {text} " for text in between):
            ask = Ask.COMPARISON

        def unseen(i: int) -> bool:
            """A content word of the question outside every subject that the corpus never uses (nor a place)."""
            w = corrected[i]
            return (not used[i] and w.isalpha() and len(w) >= 3 and w not in STOP and stems[i] not in vocab.words
                    and i not in fixes and w not in self.places)

        # What the question asks about, in words the corpus never uses ("a weighted blanket", "garlic oil drops").
        objects: list[str] = []
        for a, b in object_spans(reading):
            at = [i for i, start in enumerate(starts) if a <= start < b]
            if any(unseen(i) and zipf(corrected[i]) < 5.0 for i in at):  # not "gone", "water"
                keep = [i for i in at if corrected[i] not in STOP and corrected[i] not in _DETERMINERS]
                objects.append(_surface([typed[i] for i in keep]))
        unknown: list[UnknownTerm] = []
        run: list[tuple[str, float]] = []

        def flush() -> None:
            if run:
                unknown.append(UnknownTerm(" ".join(t for t, _ in run), min(z for _, z in run)))
                run.clear()

        for i, w in enumerate(corrected):
            # A capitalised word inside the sentence is a name (a brand, an eponym: "Shield", "Lynch"): how
            # common the word is in English says nothing about it. Otherwise its whole word family counts
            # ("propped" is as common as "prop"). A place is where the patient is, not a subject, and a negated
            # corpus word is the corpus's subject ("nonpurulent").
            if unseen(i) and not (w.startswith("non") and stem_all([w[3:]])[0] in vocab.words):
                typed_as = typed[i][0]
                rare = 0.0 if i in named else zipf(w) if typed_as.isupper() or len(w) < 5 else family_zipf(w)
                run.append((typed_as, rare))
            else:
                flush()
        flush()
        content = tuple(dict.fromkeys(st for st, w in zip(stems, corrected, strict=True)
                                      if w not in STOP and len(w) >= 2 and not w.isdigit()))
        surface = {st: t for st, (t, _) in zip(stems, typed, strict=True)}
        # A word weighs by how rare it is in the corpus and in English: "febrile" carries the question, "try" not.
        words_of = {st: w for st, w in zip(stems, corrected, strict=True)}
        weights = {c: vocab.idf(c) * min(1.0, max(0.0, (5.5 - zipf(words_of[c])) / 2.0))
                   for c in content if c in vocab.words}
        expanded += [corrected[i] for i in fixes]
        by_issuer = [vocab.issuer_docs[t.casefold()] for t, _ in typed
                     if t.isupper() and t.casefold() in vocab.issuer_docs]
        by_year = [vocab.year_docs[t] for t, _ in typed if t in vocab.year_docs]
        issuer_set: set[str] = set().union(*by_issuer)
        year_set: set[str] = set().union(*by_year)
        named_docs = (issuer_set & year_set) or issuer_set or year_set
        pairs = tuple(dict.fromkeys(
            (stems[i], stems[i + 1]) for i in range(len(stems) - 1)
            if not used[i] and not used[i + 1] and stems[i] != stems[i + 1]
            and weights.get(stems[i], 0.0) > 0 and weights.get(stems[i + 1], 0.0) > 0))
        return QueryAnalysis(question=question, ask=ask, subjects=tuple(mentions), pairs=pairs,
                             absent_procedures=tuple(dict.fromkeys(absent)),
                             absent_objects=tuple(dict.fromkeys(objects)),
                             populations=detect_populations(question), unknown=tuple(unknown),
                             weights=weights, surface=surface, expanded=tuple(expanded),
                             named_docs=frozenset(named_docs), conditions=conditions)

    def _conditions(self, stems: list[str], typed: list[tuple[str, str]], mentions: list[Mention],
                    spans: list[tuple[int, int]]) -> tuple[ConditionMention, ...]:
        """Conditions of the team's table the question names. Where a corpus term is spelled over one
        ("shingles vaccine", "HIV PrEP") the term decides: it is covered when the term has topic documents."""
        out: list[ConditionMention] = []
        context = set().union(*(m.term.docs for m in mentions if m.term.kind != "condition"))
        for start, end, condition in self.vocabulary.conditions_in(stems):
            if all(st in _population_stems() or st in STOP for st in stems[start:end]):
                continue
            text = _surface(typed[start:end])
            # A corpus term spelled over the condition decides unless the condition's spelling is longer
            # ("shingles vaccine" is the vaccine's topic; "cold sores" is not the common cold).
            over = [m for m, (a, b) in zip(mentions, spans, strict=True)
                    if a < end and start < b and b - a >= end - start]
            covered = condition.covered or any(m.term.topic_docs for m in over)
            if over and not covered:
                continue  # a term the corpus names in its text only: judged by the gate's coverage signals
            # A condition beside a drug whose guideline discusses it ("varenicline in schizophrenia", "antipyretics
            # and febrile seizures") is part of the drug's question; beside a procedure or test it is not
            # ("Lynch syndrome: colonoscopy when?" is about Lynch syndrome, which the screening guideline excludes).
            explained = self.vocabulary.condition_docs.get(condition.name, set()) & context
            background = end < len(typed) and typed[end][1] in _PATIENT_WORDS
            out.append(ConditionMention(text, condition.name, covered or bool(explained), condition.keys,
                                        condition.topic_docs, background))
        return tuple(out)
