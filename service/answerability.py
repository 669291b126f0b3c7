"""The answerability gate: answer only when the retrieved evidence covers the question's subject and ask.

The gate measures signals once (`Signals`, stored on the answer's trace) and decides with thresholds from
settings (`decide`). Calibration replays `decide` over recorded signals with other thresholds, so tuning needs
no second pass over the pipeline. Any composer, extractive or LLM, sits behind this gate and sees only the
on-topic evidence it passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from medcite.config import AnswerabilitySettings
from service.asks import ASK_EVIDENCE, ASK_WORDS, Ask
from service.models import Evidence, Signals
from service.scope import is_note
from service.understanding import POPULATIONS, Mention, QueryAnalysis
from service.vocabulary import mentions_any, stems_of


@dataclass(slots=True)
class Verdict:
    """The gate's decision: answer or abstain, why, and the evidence a composer may use."""

    answerable: bool
    reason: str
    signals: Signals
    evidence: list[Evidence] = field(default_factory=list)  # on-topic evidence, best first
    subject_docs: frozenset[str] = frozenset()


def decide(sig: Signals, t: AnswerabilitySettings) -> tuple[bool, str]:
    """Answer or abstain for recorded signals under thresholds; the reason names the subject."""
    rare = [w for w, z in sig.unknown if z < t.unknown_zipf_max]
    if rare:
        return False, f"The guideline corpus has no guideline on {', '.join(rare)}."
    # A condition the corpus has no guideline on, with no covered condition beside it ("Valtrex for cold
    # sores", "Lynch syndrome: colonoscopy when?"), is not answered from a neighbouring guideline.
    if t.require_condition_coverage and sig.uncovered_conditions and not sig.covered_conditions:
        return False, f"The guideline corpus has no guideline on {' or '.join(sig.uncovered_conditions)}."
    if t.require_procedure_coverage and sig.absent_procedures:
        return False, f"The guideline corpus has no guideline on {' or '.join(sig.absent_procedures)}."
    if t.require_object_coverage and sig.absent_objects:
        where = f"The guidelines on {sig.subject} do not mention" if sig.subject else \
            "The guideline corpus has no guideline on"
        return False, f"{where} {' or '.join(sig.absent_objects)}."
    # A question whose named subject the evidence covers may be phrased far from the passages (brands,
    # shorthand): its cosine floor is lower.
    floor = t.min_cosine_subject if sig.subject_named else t.min_cosine
    if sig.cosine < floor:
        return False, (f"No guideline passage matches the question closely enough (best match {sig.cosine:.2f}, "
                       f"threshold {floor:.2f}).")
    if sig.uncovered_subjects:
        return False, f"The guideline corpus does not cover {' or '.join(sig.uncovered_subjects)}."
    if t.require_pairing and sig.unpaired:
        return False, (f"The guidelines on {' and '.join(sig.paired_with)} do not mention "
                       f"{' or '.join(sig.unpaired)}.")
    about = f" on {sig.subject}" if sig.subject else ""
    top = max((w for _, w, _ in sig.words), default=0.0)
    key_missing = [word for word, w, found in sig.words if not found and top and w >= t.key_word_fraction * top]
    if key_missing:
        return False, f"The guidelines found{about} do not address {', '.join(key_missing[:3])}."
    lost = [phrase for phrase, w, found in sig.phrases if not found and w >= t.min_phrase_weight]
    if lost:
        return False, f"The guidelines found{about} do not address {', '.join(lost[:2])}."
    if sig.term_coverage < t.min_term_coverage:
        missing = ", ".join(sig.missing_words[:4]) or "the question's subject"
        return False, f"The guidelines found{about} do not address {missing}."
    if t.require_population_evidence and sig.missing_populations:
        return False, f"The guidelines{about} do not address {' or '.join(sig.missing_populations)}."
    if sig.ask in t.require_ask_evidence:
        if sig.ask in (Ask.INTERACTION, Ask.COMPARISON) and sig.sentence_coverage < t.min_sentence_coverage:
            return False, f"The guidelines{about} do not address this {ASK_WORDS[Ask(sig.ask)]}."
        if not sig.ask_answered or sig.ask_coverage < t.min_ask_coverage:
            return False, f"The guidelines{about} do not state the {ASK_WORDS[Ask(sig.ask)]} asked for."
    return True, ""


def on_topic(stems: list[str], doc_id: str, subjects: tuple[Mention, ...]) -> bool:
    """A passage or sentence is about the subject when it names one, or its document is about one."""
    return any(m.term.about(stems, doc_id) for m in subjects)


def unpaired_drugs(analysis: QueryAnalysis,
                   passages: list[tuple[Evidence, list[str]]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Drugs asked about for a condition that no passage ties to it, and those conditions.

    A passage ties a drug to a condition when it is about both: it names the drug (or its document is about
    the drug) and names the condition (or its document is about the condition). Without such a passage an
    answer would come from the drug's guideline on another disease, or the disease's guideline on other drugs.
    A condition named only as the patient's background ("a pneumonia patient") needs no tie, though it may
    be the one tied ("RA pt can't tolerate methotrexate because of nausea").
    """
    drugs = [m for m in analysis.subjects if m.term.kind == "drug"]
    conditions = [c for c in analysis.conditions
                  if c.covered and not any(c.text in d.text or d.text in c.text for d in drugs)]
    if not drugs or all(c.context for c in conditions):
        return (), ()
    unpaired = tuple(dict.fromkeys(
        d.text for d in drugs
        if not any(d.term.about(st, e.document.id)
                   and any(e.document.id in c.docs or mentions_any(st, c.keys) for c in conditions)
                   for e, st in passages)))
    return unpaired, (tuple(dict.fromkeys(c.text for c in conditions)) if unpaired else ())


def _together(stems: list[str], a: str, b: str, window: int = 3) -> bool:
    """Both words within a few tokens of each other, in either order ("knee replacement", "replacement of knee")."""
    at = [i for i, w in enumerate(stems) if w == a]
    return any(stems[j] == b for i in at for j in range(max(0, i - window), min(len(stems), i + window + 1)))


def phrase_signals(analysis: QueryAnalysis,
                   passages: list[tuple[Evidence, list[str]]]) -> tuple[tuple[str, float, bool], ...]:
    """Each pair of adjacent content words of the question, their summed weight, and whether a passage has both."""
    out = []
    for a, b in analysis.pairs:
        found = any(_together(st, a, b) for _, st in passages)
        text = f"{analysis.surface.get(a, a)} {analysis.surface.get(b, b)}"
        out.append((text, round(analysis.weights.get(a, 0.0) + analysis.weights.get(b, 0.0), 3), found))
    return tuple(out)


class AnswerabilityGate:
    """Measures the signals for a question's evidence and decides with the configured thresholds."""

    def __init__(self, settings: AnswerabilitySettings) -> None:
        self.settings = settings

    def subject_docs(self, analysis: QueryAnalysis) -> frozenset[str]:
        """Documents about the question's subjects (their topic documents, else the documents naming them)."""
        return frozenset(d for m in analysis.subjects for d in m.term.docs)

    def assess(self, analysis: QueryAnalysis, evidence: list[Evidence],
               query_vector: npt.NDArray[np.float32]) -> Verdict:
        """Signals and decision for one question's retrieved evidence."""
        s = self.settings
        cosine = max((float(e.passage_vector @ query_vector) for e in evidence), default=0.0)
        passages = [(e, list(stems_of(" ".join((e.document.title, *e.document.topics, e.chunk.section,
                                                e.chunk.text))))) for e in evidence]
        subjects = analysis.subjects
        # A class ("blood thinner", "acid reducer") is too broad to refuse on; conditions and drugs are not.
        uncovered = tuple(dict.fromkeys(
            m.text for m in subjects
            if m.term.kind != "drug_class" and not any(m.term.about(st, e.document.id) for e, st in passages)))
        kept = [(e, st) for e, st in passages if not subjects or on_topic(st, e.document.id, subjects)]
        unpaired, paired_with = unpaired_drugs(analysis, kept)
        # Words the corpus never uses are judged by the unknown-subject rule, not here; common English words
        # ("old", "think") weigh nothing (see QueryAnalysis.weights).
        weights = {c: w for c, w in analysis.weights.items() if w > 0}
        content = list(weights)
        total = sum(weights.values()) or 1.0
        top = kept[: s.coverage_passages]
        present = set().union(*(set(st) for _, st in top)) if top else set()
        for m in subjects:  # a subject named by a brand or lay word counts as present when its term is
            if any(m.term.about(st, e.document.id) for e, st in top):
                present.update(stems_of(m.text))
        covered = sum(w for c, w in weights.items() if c in present)
        missing = tuple(analysis.surface.get(c, c) for c in content if c not in present)
        # Key words may be anywhere in the on-topic evidence, not only in its best passages.
        anywhere = present.union(*(set(st) for _, st in kept))
        word_signals = tuple((analysis.surface.get(c, c), round(w, 3), c in anywhere) for c, w in weights.items())
        # A review note ("Not stated here pending verification: the titration schedules") answers nothing.
        sentences = [(e, text) for e, _ in kept for text in e.chunk.sentence_texts()
                     if not is_note(e.chunk.section, text)]
        best_sentence = 0.0
        best_answering = 0.0
        answered = False
        cue = ASK_EVIDENCE.get(analysis.ask)
        populations = list(analysis.populations)
        for e, text in sentences:
            own = stems_of(text)
            st = set(own) | set(stems_of(e.chunk.section))
            for m in subjects:
                if mentions_any(own, m.term.keys):
                    st.update(stems_of(m.text))
            share = sum(w for c, w in weights.items() if c in st) / total
            best_sentence = max(best_sentence, share)
            if cue is None or cue.search(text):
                answered = True
                best_answering = max(best_answering, share)
            scope = f"{e.chunk.section} {text}"
            populations = [p for p in populations if not POPULATIONS[p].search(scope)]
        signals = Signals(
            cosine=round(cosine, 4),
            unknown=tuple((u.text, u.zipf) for u in analysis.unknown),
            uncovered_subjects=uncovered,
            term_coverage=round(covered / total, 4) if content else 1.0,
            missing_words=missing,
            words=word_signals,
            sentence_coverage=round(best_sentence, 4),
            ask=analysis.ask.value,
            ask_answered=answered,
            missing_populations=tuple(populations) if kept else tuple(analysis.populations),
            subject=analysis.subject,
            subject_named=bool(subjects),
            uncovered_conditions=tuple(dict.fromkeys(c.text for c in analysis.conditions if not c.covered)),
            covered_conditions=tuple(dict.fromkeys(c.text for c in analysis.conditions if c.covered)),
            unpaired=unpaired,
            paired_with=paired_with,
            ask_coverage=round(best_answering, 4) if cue is not None else 1.0,
            phrases=phrase_signals(analysis, kept),
            absent_procedures=analysis.absent_procedures,
            absent_objects=analysis.absent_objects,
        )
        ok, reason = decide(signals, s)
        return Verdict(ok, reason, signals, [e for e, _ in kept] if ok else [], self.subject_docs(analysis))
