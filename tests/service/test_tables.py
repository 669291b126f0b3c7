"""The team-written vocabulary tables follow their header rules on the bundled corpus, and brand names and lay
phrases of the tables reach the corpus terms they are written for; the condition table recognises conditions by
their lay and clinical names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ingest import Document, load_paths
from medcite.config import AnswerabilitySettings
from service import QueryAnalyzer, Vocabulary
from service.vocabulary import Key, key_of, load_drug_table, stems_of, tokens

ROOT = Path(__file__).resolve().parents[2]
LAY_TABLE = ROOT / "service" / "data" / "lay_terms.yaml"
CONDITION_TABLE = ROOT / "service" / "data" / "conditions.yaml"
SHORTHAND_TABLE = ROOT / "service" / "data" / "abbreviations.yaml"


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    docs = [d for d in load_paths([ROOT / "corpus"]) if isinstance(d, Document)]
    assert len(docs) >= 100
    return docs


@pytest.fixture(scope="module")
def lay_rows() -> list[dict[str, list[str]]]:
    rows = yaml.safe_load(LAY_TABLE.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and len(rows) >= 250
    return rows


@pytest.fixture(scope="module")
def shorthand_rows() -> list[dict[str, list[str]]]:
    rows = yaml.safe_load(SHORTHAND_TABLE.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and len(rows) >= 250
    return rows


def _names(doc_stems: list[tuple[str, ...]], term: str) -> bool:
    key = key_of(term)
    n = len(key)
    return any(stems[i:i + n] == key for stems in doc_stems for i in range(len(stems) - n + 1))


def test_lay_phrases_are_in_one_entry_and_none_is_a_digest_topic(
        documents: list[Document], lay_rows: list[dict[str, list[str]]]) -> None:
    topics = {key_of(t) for d in documents for t in (*d.topics, d.title)}
    owner: dict[Key, int] = {}
    twice: list[str] = []
    for i, row in enumerate(lay_rows):
        assert row.get("lay") and row.get("means"), f"entry {i} needs lay phrases and corpus terms"
        for phrase in row["lay"]:
            key = key_of(phrase)
            if owner.setdefault(key, i) != i:
                twice.append(phrase)
    assert not twice, f"lay phrases in two entries: {twice}"
    assert not [p for row in lay_rows for p in row["lay"] if key_of(p) in topics], "a lay phrase is a digest topic"


def test_every_lay_meaning_occurs_in_the_digests(
        documents: list[Document], lay_rows: list[dict[str, list[str]]]) -> None:
    doc_stems = [stems_of(" ".join((d.title, *d.topics, d.text))) for d in documents]
    absent = [m for row in lay_rows for m in row["means"] if not _names(doc_stems, m)]
    assert not absent, f"means terms no digest uses: {absent}"


@pytest.fixture(scope="module")
def analyzer(documents: list[Document]) -> QueryAnalyzer:
    return QueryAnalyzer(Vocabulary(documents), AnswerabilitySettings())


def test_a_pack_of_several_generics_is_its_own_entry_not_a_brand_of_one(analyzer: QueryAnalyzer) -> None:
    single = analyzer.analyze("Is Voquezna taken with food?").subjects
    pack = analyzer.analyze("Is Voquezna Dual Pak taken with food?").subjects
    assert [m.term.name for m in single] == ["vonoprazan"]
    assert [(m.text, m.term.name) for m in pack] == [("Voquezna Dual Pak", "vonoprazan/amoxicillin")]
    assert key_of("amoxicillin") in pack[0].term.related  # amoxicillin passages are on the pack's topic


@pytest.mark.parametrize(("question", "typed", "corpus_term"), [
    ("Can I use NuvaRing if I get migraine with aura?", "NuvaRing", "vaginal ring"),
    ("How long is the Voquezna Dual Pak taken?", "Voquezna Dual Pak", "vonoprazan"),
    ("Is Microgynon ok if I smoke?", "Microgynon", "combined oral contraceptive"),
    ("Can I take Roaccutane while pregnant?", "Roaccutane", "isotretinoin"),
    ("Is Stilnox ok for sleep?", "Stilnox", "zolpidem"),
])
def test_brands_reach_the_corpus_terms_they_name(analyzer: QueryAnalyzer, question: str, typed: str,
                                                 corpus_term: str) -> None:
    analysis = analyzer.analyze(question)
    mention = next(m for m in analysis.subjects if m.text == typed)
    assert not analysis.unknown
    # The corpus names the term in its text: a passage naming it is on the brand's topic.
    assert mention.term.about(stems_of(f"Guidance on {corpus_term}."), "elsewhere")


@pytest.mark.parametrize(("question", "typed", "topic"), [
    ("my toddler has the runs", "the runs", "acute diarrhoea"),
    ("Is the ring ok after 35?", "the ring", "vaginal ring"),
    ("I forgot my pill last night", "forgot my pill", "missed pill"),
    ("Should I worry about fewer kicks at 30 weeks?", "fewer kicks", "reduced fetal movements"),
    ("Can I fly with a stuffy nose?", "stuffy nose", "blocked nose"),
    # Phrases holding a one-word lay term the question step reads as the corpus's words ("baby" → infants).
    ("My baby is moving less than usual", "baby is moving less", "reduced fetal movements"),
    ("toddler diarrhoea for a week", "toddler diarrhoea", "toddler diarrhoea"),
])
def test_lay_phrases_reach_the_digest_topics_they_mean(analyzer: QueryAnalyzer, question: str, typed: str,
                                                       topic: str) -> None:
    mention = next(m for m in analyzer.analyze(question).subjects if m.text == typed)
    assert mention.term.topic_docs and key_of(topic) in mention.term.keys


@pytest.fixture(scope="module")
def condition_rows() -> list[dict[str, object]]:
    rows = yaml.safe_load(CONDITION_TABLE.read_text(encoding="utf-8"))
    assert isinstance(rows, list) and len(rows) >= 2000
    return rows


def _spellings(row: dict[str, object]) -> list[str]:
    also = row.get("also") or []
    assert isinstance(also, list), f"{row['name']}: also must be a list"
    return [str(row["name"]), *(str(a) for a in also)]


def test_condition_table_is_sorted_and_every_spelling_is_in_one_entry(
        condition_rows: list[dict[str, object]]) -> None:
    names = [str(r["name"]) for r in condition_rows]
    assert names == sorted(names, key=str.casefold), "entries are sorted case-insensitively by name"
    # The vocabulary keeps the first entry a spelling names, so a spelling in two entries is silently one of them.
    owner: dict[Key, str] = {}
    twice = [(s, owner[k], row["name"]) for row in condition_rows for s in _spellings(row)
             if owner.setdefault(k := key_of(s), str(row["name"])) != row["name"]]
    assert not twice, f"spellings in two entries: {twice}"


def test_condition_table_leaves_out_what_its_header_rules_out(condition_rows: list[dict[str, object]]) -> None:
    header = " ".join(line.lstrip("# ") for line in CONDITION_TABLE.read_text(encoding="utf-8").splitlines()
                      if line.startswith("#"))
    groups = re.findall(r"\(([^()]*), \.\.\.\)", header)
    assert len(groups) == 2, "the header lists the ambiguous abbreviations and the bare common words"
    excluded = [w.strip() for g in groups for w in g.split(",")]
    assert {"ED", "MG", "ALS", "cold", "fits", "the change"} <= set(excluded)
    abbreviations = {w for w in excluded if w.isupper() or not w.islower()}
    used = [(s, row["name"]) for row in condition_rows for s in _spellings(row)
            if s in abbreviations or key_of(s) in {key_of(w) for w in excluded if w.islower()}]
    assert not used, f"spellings the header rules out: {used}"


@pytest.mark.parametrize(("question", "typed", "condition", "covered"), [
    # Uncovered conditions patients name in everyday words, which only the table can recognise.
    ("Is there a cream for excessive sweating?", "excessive sweating", "hyperhidrosis", False),
    ("How long does frozen shoulder last?", "frozen shoulder", "frozen shoulder", False),
    ("Ringing in the ears after a concert, will it go away?", "Ringing in the ears", "tinnitus", False),
    ("My son walks on tiptoes, is that normal?", "walks on tiptoes", "toe walking", False),
    ("Does my baby need treatment for a stork mark?", "stork mark", "stork mark", False),
    ("Treatment for red meat allergy after a tick bite", "red meat allergy", "alpha-gal syndrome", False),
    # Clinical names sharing a word with a covered condition are the other condition.
    ("What painkiller for arthritis in the spine?", "arthritis in the spine", "spinal osteoarthritis", False),
    ("Is iron useful in sideroblastic anaemia?", "sideroblastic anaemia", "sideroblastic anaemia", False),
    ("Chemotherapy for triple negative breast cancer", "triple negative breast cancer",
     "triple-negative breast cancer", False),
    ("Is amoxicillin used for tonsil stones?", "tonsil stones", "tonsil stones", False),
    # Lay spellings of covered conditions reach them.
    ("Best antihistamine for cat allergy?", "cat allergy", "perennial allergic rhinitis", True),
    ("What helps thumb arthritis?", "thumb arthritis", "hand osteoarthritis", True),
    ("Is ibuprofen gel good for a rolled ankle?", "rolled ankle", "ankle sprain", True),
    ("Can a prolapsed womb be fixed with pelvic floor exercises?", "prolapsed womb", "pelvic organ prolapse", True),
])
def test_the_condition_table_recognises_lay_and_clinical_names(analyzer: QueryAnalyzer, question: str, typed: str,
                                                                condition: str, covered: bool) -> None:
    found = [(c.text, c.name, c.covered) for c in analyzer.analyze(question).conditions]
    assert (typed, condition, covered) in found, found
def test_every_shorthand_meaning_occurs_in_the_digests(
        documents: list[Document], shorthand_rows: list[dict[str, list[str]]]) -> None:
    doc_stems = [stems_of(" ".join((d.title, *d.topics, d.text))) for d in documents]
    assert all(row.get("lay") and row.get("means") for row in shorthand_rows)
    absent = [m for row in shorthand_rows for m in row["means"] if not _names(doc_stems, m)]
    assert not absent, f"means terms no digest uses: {absent}"


def test_no_phrase_is_in_two_entries_of_the_lay_and_shorthand_tables(
        lay_rows: list[dict[str, list[str]]], shorthand_rows: list[dict[str, list[str]]]) -> None:
    # Both tables load as one: a phrase in two entries would be read as whichever loads first.
    owner: dict[Key, int] = {}
    twice = [p for i, row in enumerate([*lay_rows, *shorthand_rows]) for p in row["lay"]
             if owner.setdefault(key_of(p), i) != i]
    assert not twice, f"phrases in two entries: {twice}"


def test_no_shorthand_respells_a_drug_of_the_drug_table(shorthand_rows: list[dict[str, list[str]]]) -> None:
    # The drug table already spells its drugs; a shorthand for one of them would merge two terms.
    spellings = {key_of(n) for e in load_drug_table() for n in (e.generic, *e.also, *e.brands)}
    clash = [p for row in shorthand_rows for p in row["lay"] if key_of(p) in spellings]
    assert not clash, f"shorthand that drugs.yaml already spells: {clash}"


def test_every_shorthand_is_read_as_a_term_or_its_expansion(
        documents: list[Document], shorthand_rows: list[dict[str, list[str]]]) -> None:
    vocabulary = Vocabulary(documents)
    unread = [p for row in shorthand_rows for p in row["lay"]
              if key_of(p) not in vocabulary.by_key and "".join(tokens(p)) not in vocabulary.expansions]
    assert not unread, f"shorthand the vocabulary never reads: {unread}"


@pytest.mark.parametrize(("question", "typed", "corpus_term"), [
    ("Is Combivent used in COPD?", "Combivent", "salbutamol"),
    ("Can I take Nurofen Plus while breastfeeding?", "Nurofen Plus", "codeine"),
    ("Can Natrilix cause low sodium?", "Natrilix", "indapamide"),
    ("How is Xultophy started?", "Xultophy", "liraglutide"),
    ("Is Diprobase ok for a baby with eczema?", "Diprobase", "emollient"),
])
def test_second_sweep_brands_reach_their_generics(analyzer: QueryAnalyzer, question: str, typed: str,
                                                   corpus_term: str) -> None:
    analysis = analyzer.analyze(question)
    mention = next(m for m in analysis.subjects if m.text == typed)
    assert not analysis.unknown
    assert mention.term.about(stems_of(f"Guidance on {corpus_term}."), "elsewhere")


@pytest.mark.parametrize(("question", "typed", "corpus_term"), [
    ("T2DM pt with eGFR 40, can he take an SGLT2i?", "T2DM", "type 2 diabetes"),
    ("T2DM pt with eGFR 40, can he take an SGLT2i?", "SGLT2i", "SGLT2 inhibitor"),
    ("Should a patient with AF and CHF be on a DOAC?", "CHF", "congestive heart failure"),
    ("How long should I take doxy for Lyme?", "doxy", "doxycycline"),
    ("Is tPA given within 4.5 hrs of a CVA?", "CVA", "stroke"),
    ("benzos for insomnia in the elderly?", "benzos", "benzodiazepines"),
    # Word forms the digests write as the condition's noun.
    ("Can asthmatics take ibuprofen?", "asthmatics", "asthma"),
    ("Best treatment for an epileptic woman planning pregnancy", "epileptic", "epilepsy"),
])
def test_shorthand_and_word_forms_reach_corpus_terms(analyzer: QueryAnalyzer, question: str, typed: str,
                                                     corpus_term: str) -> None:
    analysis = analyzer.analyze(question)
    mention = next(m for m in analysis.subjects if m.text == typed)
    assert key_of(corpus_term) in mention.term.keys and mention.term.docs
    assert not analysis.unknown


@pytest.mark.parametrize(("question", "expanded"), [
    ("Does my FBC need repeating on iron?", "full blood count"),
    ("When should LFTs be checked on methotrexate?", "liver function"),
    ("Is a CXR needed for pneumonia?", "chest x ray"),
    ("My kid is 18 mos old with an ear infection", "months"),
])
def test_shorthand_the_corpus_spells_out_is_read_as_its_words(analyzer: QueryAnalyzer, question: str,
                                                              expanded: str) -> None:
    analysis = analyzer.analyze(question)
    assert expanded in " ".join(analysis.expanded) and not analysis.unknown


@pytest.mark.parametrize("question", ["What helps the sniffles?", "Do I need antibiotics for a head cold?"])
def test_a_cold_is_not_read_as_sinusitis(analyzer: QueryAnalyzer, question: str) -> None:
    assert not [m for m in analyzer.analyze(question).subjects if key_of("sinusitis") in m.term.keys]
