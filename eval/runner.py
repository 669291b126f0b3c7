"""Run every system over every gold set: build (cached) indexes, ask, measure, append records, resume."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.corpus import EvalIndex, Question, build_corpus_index, build_index, questions_for
from eval.gold import GoldSet, load_gold
from eval.guideline import DEFAULT_CORPUS, facts_found, is_guideline_gold, load_guideline_questions
from eval.metrics import (
    StatementJudge,
    answer_text,
    citation_scores,
    decide,
    reference_statements,
    retrieval_scores,
    rouge_l,
)
from eval.oos import DEFAULT_OOS, load_out_of_scope, rare_disease_questions
from eval.records import QuestionResult, RecordStore, ReferenceOut, SentenceOut
from ingest import Document, Embedder, Index, Progress
from medcite.config import LLMSettings, Settings
from medcite.errors import InvalidInputError
from service import Answer, AnswerService, Catalog, ConversationStore, HybridRetriever

log = logging.getLogger(__name__)

FUSION = {"bm25": "bm25", "dense": "dense", "hybrid": "weighted", "rrf": "rrf"}
DEFAULT_SYSTEMS = ("bm25", "dense", "hybrid", "rrf")


@dataclass(frozen=True, slots=True)
class System:
    """A named retrieval configuration: a fusion mode plus optional RetrievalSettings overrides."""

    name: str
    fusion: str
    overrides: tuple[tuple[str, Any], ...] = ()
    llm: LLMSettings | None = None  # compose with this LLM (system names end in "+llm"); None: extractive

    def settings(self, base: Settings) -> Settings:
        """The base settings with this system's retrieval section and composer."""
        update = {"fusion": self.fusion, **dict(self.overrides)}
        return base.model_copy(update={"retrieval": base.retrieval.model_copy(update=update),
                                       "llm": self.llm or LLMSettings()})

    def with_llm(self, llm: LLMSettings) -> System:
        """The same retrieval, composed by an LLM."""
        return dataclasses.replace(self, name=f"{self.name}+llm", llm=llm)


def parse_systems(names: Sequence[str]) -> list[System]:
    """Systems from names (bm25, dense, hybrid, rrf)."""
    out: list[System] = []
    for name in names:
        if name not in FUSION:
            raise InvalidInputError(f"unknown system {name!r}; known: {', '.join(FUSION)}")
        out.append(System(name, FUSION[name]))
    return out


@dataclass(frozen=True, slots=True)
class EvalOptions:
    """What `medcite eval` runs."""

    gold: tuple[Path, ...] = ()
    systems: tuple[System, ...] = tuple(System(n, FUSION[n]) for n in DEFAULT_SYSTEMS)
    limit: int | None = None
    seed: int = 13
    out: Path = Path("eval-out")
    cache: Path = Path(".medcite/eval-cache")
    corpus: Path | None = None
    k: int = 20
    index_limit: int | None = None
    out_of_scope: Path = DEFAULT_OOS
    rare_limit: int = 100
    scope_corpus: Path | None = None  # corpus-only index for the out-of-scope row (default: `corpus`)


@dataclass(slots=True)
class EvalSet:
    """One gold set (or the guideline corpus alone) with its index and questions."""

    name: str
    index: EvalIndex
    questions: list[Question] = field(default_factory=list)


class Runner:
    """Evaluates systems over gold sets, appending one record per (system, set, question)."""

    def __init__(self, options: EvalOptions, *, settings: Settings, embedder: Embedder,
                 progress: Progress | None = None) -> None:
        self.options = options
        self.settings = settings
        self.embedder = embedder
        self.progress = progress
        self.judge = StatementJudge(embedder)
        self.store = RecordStore(options.out / "records.jsonl")

    def _guideline_sets(self, paths: Sequence[Path]) -> list[EvalSet]:
        """The guideline gold sets over the bundled corpus (or --corpus), one set per split."""
        o = self.options
        sets: list[EvalSet] = []
        if not paths:
            return sets
        index = build_corpus_index(o.corpus or DEFAULT_CORPUS, cache_dir=o.cache, settings=self.settings,
                                   embedder=self.embedder, progress=self.progress)
        for path in paths:
            records = load_guideline_questions(path)
            for split in ("dev", "test"):
                chosen = [r for r in records if r.split == split]
                if o.limit is not None:
                    chosen = chosen[: o.limit]
                questions = [Question(
                    id=r.id, text=r.question, reference=r.answer, gold_doc=frozenset(r.doc_ids),
                    kind="answerable" if r.kind == "answerable" else "out_of_scope", category=r.kind, ask=r.ask,
                    audience=r.audience, must_have=r.must_have, history=r.history) for r in chosen]
                if questions:
                    sets.append(EvalSet(f"{path.stem}-{split}", index, questions))
        return sets

    def prepare(self) -> list[EvalSet]:
        """Load gold sets, build or reuse their indexes, pick the questions."""
        o = self.options
        guideline = [p for p in o.gold if p.is_file() and is_guideline_gold(p)]
        golds: list[GoldSet] = [load_gold(p) for p in o.gold if p not in guideline]
        if len({g.name for g in golds}) != len(golds):
            raise InvalidInputError("gold files must have distinct names")
        oos = load_out_of_scope(o.out_of_scope)
        sets: list[EvalSet] = []
        for gold in golds:
            index = build_index(gold, cache_dir=o.cache, settings=self.settings, embedder=self.embedder,
                                corpus=o.corpus, index_limit=o.index_limit, seed=o.seed, progress=self.progress)
            questions = questions_for(gold, index.collection, limit=o.limit, seed=o.seed)
            sets.append(EvalSet(gold.name, index, questions + oos))
        sets += self._guideline_sets(guideline)
        scope = o.scope_corpus or (o.corpus if golds else None)
        if scope is not None:
            index = build_corpus_index(scope, cache_dir=o.cache, settings=self.settings,
                                       embedder=self.embedder, progress=self.progress)
            rare: list[Question] = []
            opened = Index.open(index.settings, embedder=self.embedder)
            try:
                docs = opened.documents()
            finally:
                opened.close()
            for gold in golds:
                if gold.kind == "answers":
                    rare += rare_disease_questions(gold, docs, limit=o.rare_limit, seed=o.seed)
            sets.append(EvalSet(index.name, index, oos + rare))
        return sets

    def run(self, sets: Sequence[EvalSet] | None = None) -> list[QuestionResult]:
        """Measure what is not yet in records.jsonl; returns every record of this run's systems and sets."""
        sets = list(sets) if sets is not None else self.prepare()
        done = self.store.done()
        for es in sets:
            self._run_set(es, done)
        wanted = {(s.name, es.name, q.id) for es in sets for s in self.options.systems for q in es.questions}
        return [r for r in self.store.load() if r.key in wanted]

    def _run_set(self, es: EvalSet, done: set[tuple[str, str, str]]) -> None:
        todo = {s.name: [q for q in es.questions if (s.name, es.name, q.id) not in done]
                for s in self.options.systems}
        if not any(todo.values()):
            return
        index = Index.open(es.index.settings, embedder=self.embedder)
        try:
            catalog = Catalog(index)
            for system in self.options.systems:
                if not todo[system.name]:
                    continue
                settings = system.settings(es.index.settings)
                retriever = HybridRetriever(catalog, settings.retrieval)
                conversations = ConversationStore("sqlite://")
                service = AnswerService(settings, index=index, retriever=retriever, conversations=conversations)
                if self.progress is not None:
                    self.progress.start(len(todo[system.name]), f"{es.name} · {system.name}")
                try:
                    for question in todo[system.name]:
                        result = self.evaluate(question, es.name, system.name, service, retriever,
                                               catalog.documents)
                        self.store.append(result)
                        if self.progress is not None:
                            self.progress.advance(1)
                finally:
                    conversations.close()
        finally:
            index.close()

    def evaluate(self, q: Question, set_name: str, system: str, service: AnswerService,
                 retriever: HybridRetriever, documents: dict[str, Document]) -> QuestionResult:
        """Ask one question, retrieve its ranking, and score everything measurable."""
        conversation, secret = None, None
        for earlier in q.history:  # a follow-up: its conversation is asked first, in order
            opened = service.ask(earlier, conversation_id=conversation, conversation_secret=secret,
                                 audience="patient" if q.audience == "patient" else "clinician")
            conversation, secret = opened.conversation_id, secret or opened.conversation_secret
        t0 = time.perf_counter()
        answer = service.ask(q.text, conversation_id=conversation, conversation_secret=secret,
                             audience="patient" if q.audience == "patient" else "clinician")
        latency = (time.perf_counter() - t0) * 1000
        result = QuestionResult(
            system=system, set=set_name, id=q.id, kind=q.kind, question=q.text, reference=q.reference,
            decision=q.decision, summary=answer.summary,
            sentences=[SentenceOut(s.text, tuple(s.citations)) for s in answer.all_sentences()],
            references=[ReferenceOut(r.number, r.doc_id, r.title, tuple(s.text for s in r.spans))
                        for r in answer.references],
            abstained=answer.abstained, confidence=answer.confidence, latency_ms=round(latency, 2))
        cit = citation_scores(answer, documents, service.verifier)
        result.counts = {**dataclasses.asdict(cit), "passages": answer.trace.k, "ranked": len(answer.trace.ranking)}
        m: dict[str, float | None] = {
            "abstained": float(answer.abstained),
            "citation_validity": cit.valid / cit.citations if cit.citations else None,
            "citation_support": cit.supported / cit.cited if cit.cited else None,
            "citation_coverage": cit.cited / cit.sentences if cit.sentences else None,
        }
        result.abstention_reason = answer.abstention_reason
        result.gate_abstained = answer.trace.gate_abstained
        if q.category:
            self._guideline(q, answer, result, m)
        elif q.kind == "answerable":
            # The ranking of the retrieval the answer itself used (its trace), cut at --k.
            result.ranking = list(answer.trace.ranking[: self.options.k])
            result.gold, result.gold_doc = sorted(q.gold), sorted(q.gold_doc)
            m.update(retrieval_scores({q.id: result.ranking}, {q.id: q.gold}).get(q.id, {}))
            if q.gold_doc:
                doc_level = retrieval_scores({q.id: result.ranking}, {q.id: q.gold_doc}).get(q.id, {})
                m.update({f"doc_{k}": v for k, v in doc_level.items()})
            statements = self.judge.judge(reference_statements(q.reference), [s.text for s in result.sentences])
            result.counts.update(statements=statements.statements, supported_statements=statements.supported,
                                 contradicted=statements.contradicted)
            m["rougeL_f"] = rouge_l(q.reference, answer_text(answer))
            m["statement_recall"] = statements.recall
            m["contradiction_rate"] = statements.contradiction_rate
            if q.decision:
                result.predicted_decision = decide(answer)
                m["ynm_correct"] = float(result.predicted_decision == q.decision)
        result.metrics = {k: (round(v, 4) if v is not None else None) for k, v in m.items()}
        return result

    @staticmethod
    def _guideline(q: Question, answer: Answer, result: QuestionResult, m: dict[str, float | None]) -> None:
        """Guideline-set scores: facts in the answer and the lead, expected guideline first, the gate's signals."""
        result.category, result.ask = q.category, q.ask
        signals = answer.trace.signals
        result.signals = dataclasses.asdict(signals) if signals is not None else {}
        result.ranking = list(answer.trace.ranking)
        result.gold_doc = sorted(q.gold_doc)
        if q.category == "answerable":
            whole = " ".join(s.text for s in answer.all_sentences())
            lead = " ".join(s.text for s in answer.summary_sentences)
            result.counts.update(facts=len(q.must_have), facts_found=facts_found(q.must_have, whole),
                                 facts_lead=facts_found(q.must_have, lead))
            first = answer.references[0].doc_id if answer.references else ""
            m["guideline_hit"] = float(first in q.gold_doc)  # ranking metrics: computed over the set
