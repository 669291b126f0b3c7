"""Query understanding and the gate's decision rule, on a small in-memory vocabulary (no model, no index)."""

from __future__ import annotations

import pytest

from ingest import Document
from medcite.config import AnswerabilitySettings
from service import Ask, QueryAnalyzer, Signals, Vocabulary, decide
from service.asks import detect_ask
from service.understanding import detect_populations
from service.vocabulary import DrugEntry, key_of, load_drug_table, stems_of

DOCS = [
    Document(id="vte", title="Antithrombotic therapy for VTE disease", source="x",
             topics=("venous thromboembolism", "deep vein thrombosis", "DVT"),
             text="Apixaban 10 mg twice daily for 7 days. Provoked DVT is treated for 3 months."),
    Document(id="ms", title="Multiple sclerosis disease-modifying therapy", source="x",
             topics=("multiple sclerosis", "MS"), text="Ocrelizumab is used in primary progressive MS."),
    Document(id="pain", title="Analgesia", source="x", topics=("analgesia",),
             text="Paracetamol has a maximum of 4 g in 24 hours. Metronidazole causes a reaction with alcohol."),
]
DRUGS = [DrugEntry("apixaban", brands=("Eliquis",), classes=("blood thinner",)),
         DrugEntry("paracetamol", also=("acetaminophen",), brands=("Tylenol",)),
         DrugEntry("metronidazole", brands=("Flagyl",))]
LAY = [(("clot in the leg",), ("deep vein thrombosis",))]


@pytest.fixture(scope="module")
def analyzer() -> QueryAnalyzer:
    return QueryAnalyzer(Vocabulary(DOCS, DRUGS, LAY), AnswerabilitySettings())


def names(analyzer: QueryAnalyzer, question: str) -> list[str]:
    return [m.term.name for m in analyzer.analyze(question).subjects]


def test_brand_lay_and_topic_names_map_to_corpus_terms(analyzer: QueryAnalyzer) -> None:
    assert names(analyzer, "How much Tylenol can I take?") == ["paracetamol"]
    assert names(analyzer, "Is Eliquis ok after a clot in the leg?") == ["apixaban", "deep vein thrombosis"]
    assert names(analyzer, "treatment of deep-vein thromboses") == ["deep vein thrombosis"]
    term = analyzer.analyze("How much Tylenol?").subjects[0].term
    assert term.text_docs == {"pain"}  # the corpus names paracetamol only in the analgesia digest


def test_typos_are_corrected_conservatively(analyzer: QueryAnalyzer) -> None:
    mention = analyzer.analyze("apixiban dose").subjects[0]
    assert (mention.term.name, mention.corrected_from) == ("apixaban", "apixiban")
    # A word two edits from a short corpus word is not "corrected" into it.
    assert names(analyzer, "apxiabn dose") == []


def test_words_the_corpus_never_uses_are_unknown_with_their_rarity(analyzer: QueryAnalyzer) -> None:
    unknown = analyzer.analyze("What is the treatment for tinea pedis?").unknown
    assert [u.text for u in unknown] == ["tinea pedis"]
    assert unknown[0].zipf < 3.0
    # Common English words absent from the corpus are recorded too, but with a high frequency.
    common = {u.text: u.zipf for u in analyzer.analyze("my grandmother has a clot in the leg").unknown}
    assert common["grandmother"] > 4.0



def test_places_are_not_subjects_and_word_families_count(analyzer: QueryAnalyzer) -> None:
    # A country or a large city is where the patient is, not what they ask about; a brand-like name still is.
    unknown = analyzer.analyze("Flying to Thailand next week with a DVT, is apixaban fine?").unknown
    assert [u.text for u in unknown if u.zipf < 3.5] == []
    assert [u.text for u in analyzer.analyze("Is Zepbound fine with a DVT?").unknown] == ["Zepbound"]
    # "propped" is rare as typed, but its family ("prop", "props") is common English.
    propped = {u.text: u.zipf for u in analyzer.analyze("Should a DVT leg be propped up?").unknown}
    assert propped["propped"] > 3.5
    # A negated word the corpus uses is the corpus's subject.
    assert analyzer.analyze("Nonprovoked DVT treatment?").unknown == ()
    assert [u.text for u in analyzer.analyze("Nonallergic rhinitis treatment?").unknown] == ["Nonallergic rhinitis"]


def test_place_names_that_are_medical_terms_keep_their_words() -> None:
    docs = [*DOCS, Document(id="kd", title="Kawasaki disease", source="x", topics=("Kawasaki disease",),
                            text="Intravenous immunoglobulin is given.")]
    analyzer = QueryAnalyzer(Vocabulary(docs, DRUGS, LAY), AnswerabilitySettings())
    assert "kawasaki" not in analyzer.places and "bangkok" in analyzer.places


def test_cause_outlook_and_risk_asks_need_a_sentence_that_answers_them() -> None:
    from service.asks import ASK_EVIDENCE

    t = AnswerabilitySettings()
    for ask, answering, other in (
            ("cause", "Gout is caused by urate crystals.", "Sulfonylureas can cause low blood sugar."),
            ("prognosis", "Most people recover fully within 3 months.", "Prednisolone is offered."),
            ("risk_factors", "Obesity is a risk factor for sleep apnoea.", "CPAP is recommended.")):
        cue = ASK_EVIDENCE[Ask(ask)]
        assert cue.search(answering) and not cue.search(other), ask
        answered, reason = decide(Signals(cosine=0.7, ask=ask, ask_answered=False, subject="gout"), t)
        assert not answered and "do not state the" in reason
        assert decide(Signals(cosine=0.7, ask=ask, ask_answered=True, subject="gout"), t) == (True, "")

def test_short_acronyms_need_capitals(analyzer: QueryAnalyzer) -> None:
    assert names(analyzer, "ocrelizumab in MS") == ["multiple sclerosis"]  # acronym topic merged
    assert names(analyzer, "how many ms of delay") == []


@pytest.mark.parametrize(("question", "ask"), [
    ("How long should anticoagulation continue after a provoked DVT?", Ask.DURATION),
    ("What is the maximum dose of paracetamol?", Ask.DOSE),
    ("Can I drink alcohol while taking metronidazole?", Ask.INTERACTION),
    ("Is apixaban safe when breastfeeding?", Ask.PREGNANCY),
    ("Within how many hours can alteplase be given?", Ask.TIME_WINDOW),
    ("What is the first-line drug for hypertension?", Ask.FIRST_LINE),
    ("When should I start getting mammograms?", Ask.SCREENING),
    ("apixaban vs warfarin", Ask.COMPARISON),
    ("What is NMOSD?", Ask.DEFINITION),
    ("How is gout treated?", Ask.TREATMENT),
    ("What causes gout?", Ask.CAUSE),
    ("Is eczema contagious?", Ask.CAUSE),
    ("Is warfarin sensitivity inherited?", Ask.CAUSE),
    ("Who is at risk for sleep apnoea?", Ask.RISK_FACTORS),
    ("How can I reduce my risk of a stroke?", Ask.PREVENTION),
    ("What is the outlook for Bell's palsy?", Ask.PROGNOSIS),
])
def test_ask_detection(question: str, ask: Ask) -> None:
    assert detect_ask(question) is ask


def test_populations() -> None:
    assert detect_populations("Is it safe in pregnancy for my kid?") == ("pregnancy", "children")
    assert detect_populations("apixaban with kidney disease") == ("kidney disease",)  # "kidney" is not "kid"
    assert detect_populations("treatments for juvenile osteoporosis") == ("children",)


def test_decide_names_the_subject_and_every_threshold_matters() -> None:
    t = AnswerabilitySettings()
    ok = Signals(cosine=0.7, ask="duration", ask_answered=True, subject="DVT")
    assert decide(ok, t) == (True, "")
    verdict = decide(Signals(cosine=0.7, unknown=(("tinea pedis", 2.1),)), t)
    assert verdict == (False, "The guideline corpus has no guideline on tinea pedis.")
    assert decide(Signals(cosine=0.7, unknown=(("grandmother", 4.1),)), t)[0]
    assert not decide(Signals(cosine=t.min_cosine - 0.01), t)[0]
    assert not decide(Signals(cosine=0.7, term_coverage=t.min_term_coverage - 0.01), t)[0]
    assert not decide(Signals(cosine=0.7, uncovered_subjects=("Zepbound",)), t)[0]
    missing = decide(Signals(cosine=0.7, missing_populations=("pregnancy",), subject="DVT"), t)
    assert missing == (False, "The guidelines on DVT do not address pregnancy.")
    no_duration = Signals(cosine=0.7, ask="duration", ask_answered=False, subject="DVT")
    assert not decide(no_duration, t)[0]
    assert decide(no_duration, t.model_copy(update={"require_ask_evidence": []}))[0]


def test_bundled_drug_table_is_well_formed() -> None:
    table = load_drug_table()
    assert len(table) >= 150
    generics = {e.generic.casefold() for e in table}
    assert len(generics) == len(table), "one entry per generic"
    owners: dict[str, set[str]] = {}
    for e in table:
        for name in (*e.brands, *e.also):
            owners.setdefault(name.casefold(), set()).add(e.generic)
    shared = {n: g for n, g in owners.items() if len(g) > 1}
    assert not shared, f"names shared by two generics: {shared}"


CLASS_DOCS = [
    Document(id="htn-preg", title="Hypertension in pregnancy", source="x", topics=("hypertension in pregnancy",),
             text="ACE inhibitors such as lisinopril should be stopped within 2 days of a confirmed pregnancy."),
    Document(id="ra", title="Rheumatoid arthritis", source="x", topics=("rheumatoid arthritis",),
             text="Adding a JAK inhibitor is conditionally recommended when methotrexate fails."),
    Document(id="crohn", title="Crohn's disease", source="x", topics=("Crohn's disease",),
             text="Anti-TNF therapy induces remission in moderate to severe disease."),
]
CLASS_DRUGS = [DrugEntry("lisinopril", brands=("Zestril",), classes=("ACE inhibitor",)),
               DrugEntry("ramipril", brands=("Altace",), classes=("ACE inhibitor",)),
               DrugEntry("upadacitinib", brands=("Rinvoq",), classes=("JAK inhibitor",)),
               DrugEntry("sitagliptin", brands=("Januvia",), classes=("DPP-4 inhibitor",))]


@pytest.fixture(scope="module")
def class_analyzer() -> QueryAnalyzer:
    return QueryAnalyzer(Vocabulary(CLASS_DOCS, CLASS_DRUGS, []), AnswerabilitySettings())


def test_a_drug_the_corpus_never_names_is_a_subject_through_its_class(class_analyzer: QueryAnalyzer) -> None:
    analysis = class_analyzer.analyze("Is Altace safe in pregnancy?")
    assert [m.term.name for m in analysis.subjects] == ["ramipril"] and not analysis.unknown
    term = analysis.subjects[0].term
    assert not term.docs and key_of("ACE inhibitor") in term.related  # mapped to its class
    assert term.about(stems_of("ACE inhibitors are stopped in pregnancy."), "elsewhere")  # class passages count
    assert "ACE inhibitor" in analysis.retrieval_query  # the class's name is searched for
    # The class must be discussed where the question's other subjects are, and it states no member's dose.
    assert names(class_analyzer, "Rinvoq for rheumatoid arthritis?") == ["upadacitinib", "rheumatoid arthritis"]
    crohn = class_analyzer.analyze("Is Rinvoq an option for Crohn's disease?")
    assert [m.term.name for m in crohn.subjects] == ["Crohn's disease"]
    assert [u.text for u in crohn.unknown] == ["Rinvoq"]
    dose = class_analyzer.analyze("What is the dose of ramipril?")
    assert not dose.subjects and [u.text for u in dose.unknown] == ["ramipril"]


def test_a_drug_whose_class_the_corpus_never_discusses_stays_an_unknown_word(class_analyzer: QueryAnalyzer) -> None:
    analysis = class_analyzer.analyze("Is Januvia safe in pregnancy?")
    assert analysis.subjects == ()
    assert [u.text for u in analysis.unknown] == ["Januvia"]
    assert "DPP-4 inhibitor" not in analysis.retrieval_query


def test_a_condition_named_as_the_patients_background_is_marked_as_context() -> None:
    docs = [Document(id="cap", title="Community-acquired pneumonia", source="x", topics=("pneumonia",),
                     text="Treat community-acquired pneumonia with amoxicillin.")]
    analyzer = QueryAnalyzer(Vocabulary(docs, [], [], [("pneumonia", ())]), AnswerabilitySettings())
    background = analyzer.analyze("Enoxaparin after discharge for a pneumonia patient?").conditions
    treated = analyzer.analyze("Enoxaparin for pneumonia?").conditions
    assert [(c.name, c.context) for c in background] == [("pneumonia", True)]
    assert [(c.name, c.context) for c in treated] == [("pneumonia", False)]
    assert treated[0].docs == frozenset({"cap"})


def test_adjacent_question_words_must_occur_together_when_the_rule_is_on(analyzer: QueryAnalyzer) -> None:
    from service.answerability import phrase_signals

    analysis = analyzer.analyze("Is a provoked reaction to metronidazole likely?")
    pair = next(p for p in analysis.pairs if "reaction" in p[1])
    together = [(None, list(stems_of("A provoked reaction follows alcohol.")))]
    apart = [(None, list(stems_of("Provoked DVT is treated for months, and alcohol causes a reaction.")))]
    assert pair and phrase_signals(analysis, together)[0][2]  # type: ignore[arg-type]
    phrases = phrase_signals(analysis, apart)  # type: ignore[arg-type]
    text, weight, found = phrases[0]
    assert text == "provoked reaction" and not found
    sig = Signals(cosine=0.9, phrases=phrases)
    assert decide(sig, AnswerabilitySettings())[0], "off by default (min_phrase_weight 99)"
    verdict = decide(sig, AnswerabilitySettings(min_phrase_weight=weight))
    assert not verdict[0] and "provoked reaction" in verdict[1]


def test_the_ask_must_be_answered_by_a_sentence_covering_the_question_when_required() -> None:
    t = AnswerabilitySettings(min_ask_coverage=0.5)
    assert decide(Signals(cosine=0.9, ask="duration", ask_coverage=0.6), t)[0]
    verdict = decide(Signals(cosine=0.9, ask="duration", ask_coverage=0.3, subject="DVT"), t)
    assert not verdict[0] and "duration" in verdict[1]


def test_a_procedure_the_corpus_never_names_is_absent_and_abstains() -> None:
    docs = [Document(id="vte", title="VTE prophylaxis", source="x", topics=("VTE prophylaxis",),
                     text="Offer low molecular weight heparin. Colonoscopy and specific IgE are not needed.")]
    table = [("total knee replacement", ("knee replacement", "TKA")), ("colonoscopy", ()), ("specific IgE test", ())]
    analyzer = QueryAnalyzer(Vocabulary(docs, [], [], [], procedures=table), AnswerabilitySettings())
    after_tka = analyzer.analyze("How long should VTE prophylaxis continue after a TKA?")
    assert after_tka.absent_procedures == ("TKA",)
    assert analyzer.analyze("Is colonoscopy needed?").absent_procedures == ()  # the corpus names it
    assert analyzer.analyze("Who needs specific IgE testing?").absent_procedures == ()  # as "specific IgE"
    verdict = decide(Signals(cosine=0.9, absent_procedures=after_tka.absent_procedures), AnswerabilitySettings())
    assert not verdict[0] and "TKA" in verdict[1]
    research = Vocabulary([Document(id="p", title="Knee replacement outcomes", source="x", text="Knee.")], [], [],
                          [], procedures=table)  # passages without topics: nothing to say about coverage
    assert QueryAnalyzer(research, AnswerabilitySettings()).analyze("Is TKA durable?").absent_procedures == ()


def test_a_high_blood_pressure_reading_names_high_blood_pressure() -> None:
    docs = [*DOCS, Document(id="htn", title="Hypertension in adults", source="x",
                            topics=("hypertension", "high blood pressure"), text="Offer amlodipine.")]
    analyzer = QueryAnalyzer(Vocabulary(docs, DRUGS, LAY), AnswerabilitySettings())
    assert names(analyzer, "My machine read 185/122 this morning, what should I do?") == ["high blood pressure"]
    # Not a reading: a dose pair, a date, a normal reading.
    assert names(analyzer, "took 500/125 mg twice") == []
    assert names(analyzer, "is 12/8 ok") == []
    assert names(analyzer, "mine was 118/76") == []


def test_an_eponym_alone_names_its_disease() -> None:
    docs = [*DOCS, Document(id="pd", title="Parkinson's disease in adults", source="x",
                            topics=("Parkinson's disease",), text="Levodopa is offered for motor symptoms.")]
    analyzer = QueryAnalyzer(Vocabulary(docs, DRUGS, LAY), AnswerabilitySettings())
    assert names(analyzer, "Early Parkinson's with tremor, what first?") == ["Parkinson's disease"]
    assert names(analyzer, "Early Parkinsn's, what first?") == ["Parkinson's disease"]  # and its typo


def test_what_a_question_asks_about_must_be_in_the_corpus(analyzer: QueryAnalyzer) -> None:
    # The thing asked about ("will X help", "is X any good for") in words no guideline uses is absent...
    assert analyzer.analyze("Will a weighted blanket help my DVT?").absent_objects == ("weighted blanket",)
    assert analyzer.analyze("is garlic oil any good for a DVT?").absent_objects == ("garlic oil",)
    # ...while one the corpus names, or a question with no such slot, has none.
    assert analyzer.analyze("Will apixaban help my DVT?").absent_objects == ()
    assert analyzer.analyze("How long is a provoked DVT treated?").absent_objects == ()
    t = AnswerabilitySettings()
    sig = Signals(cosine=0.7, subject="DVT", absent_objects=("weighted blanket",))
    assert decide(sig, t) == (False, "The guidelines on DVT do not mention weighted blanket.")
    assert decide(sig, t.model_copy(update={"require_object_coverage": False}))[0]


def test_a_word_of_the_teams_tables_is_not_corrected_as_a_typo() -> None:
    docs = [*DOCS, Document(id="cell", title="Cellulitis", source="x", topics=("cellulitis",),
                            text="Cellulitis is treated with flucloxacillin.")]
    plain = QueryAnalyzer(Vocabulary(docs, DRUGS, LAY, conditions=[]), AnswerabilitySettings())
    tabled = QueryAnalyzer(Vocabulary(docs, DRUGS, LAY, conditions=[("cellulite", ())]), AnswerabilitySettings())
    assert names(plain, "is cellulite dangerous?") == ["cellulitis"]  # one edit from a corpus word
    assert names(tabled, "is cellulite dangerous?") == []  # the table knows it as a condition of its own


def test_lower_case_im_opening_a_clause_is_i_am() -> None:
    docs = [*DOCS, Document(id="gc", title="Gonorrhoea", source="x", topics=("gonorrhoea",),
                            text="Ceftriaxone is given as an intramuscular injection.")]
    analyzer = QueryAnalyzer(Vocabulary(docs, DRUGS, [(("im",), ("intramuscular",))]), AnswerabilitySettings())
    assert "intramuscular" in analyzer.analyze("gonorrhoea: ceftriaxone im?").expanded
    assert "intramuscular" not in analyzer.analyze("im worried about gonorrhoea").expanded
    assert "intramuscular" not in analyzer.analyze("ok so im worried about gonorrhoea").expanded



def test_review_notes_are_told_apart_from_guidance() -> None:
    from service.scope import is_note
    assert is_note("Review notes", "Anything under that heading.")
    assert is_note("Treatment", "Not stated here pending verification: the titration schedules.")
    assert not is_note("Scope", "NICE NG79 does not cover chronic sinusitis.")  # a scope statement is guidance
    assert not is_note("Treatment", "Apixaban is given for 3 months; the dose is not stated here.")

def test_two_corpus_words_run_together_are_read_apart() -> None:
    docs = [*DOCS, Document(id="ar", title="Allergic rhinitis", source="x", topics=("allergic rhinitis",),
                            text="Hay fever is allergic rhinitis. Intranasal steroids treat hay fever.")]
    analyzer = QueryAnalyzer(Vocabulary(docs, DRUGS, LAY), AnswerabilitySettings())
    analysis = analyzer.analyze("best spray for hayfever?")
    assert "hayfever" not in [u.text for u in analysis.unknown]
    assert "hay" in analysis.expanded and "fever" in analysis.expanded
    assert [u.text for u in analyzer.analyze("is dermabrasion ok?").unknown] == ["dermabrasion"]  # no such pair


def test_two_drugs_set_side_by_side_with_or_ask_which(analyzer: QueryAnalyzer) -> None:
    assert analyzer.analyze("Eliquis or paracetamol after a DVT?").ask is Ask.COMPARISON
    assert analyzer.analyze("apixaban for a DVT?").ask is not Ask.COMPARISON
    assert analyzer.analyze("How much Tylenol, or is apixaban enough?").ask is Ask.DOSE  # a stated ask stays
