"""The answer service: question → (follow-up rewrite) → retrieve → compose → stored Answer."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.exc import OperationalError

from ingest import Index
from medcite.config import Settings
from medcite.errors import ConflictError, InvalidInputError
from service.answerability import AnswerabilityGate, Verdict
from service.asks import Ask, detect_ask
from service.compose import Composer, ComposeRequest, Composition, ExtractiveComposer, SentenceEvent
from service.conversations import ConversationStore, new_id, new_secret, now_iso
from service.followup import FollowUpRewriter, LLMRewriter, Rewriter, Turn
from service.generate import LLMComposer, describe
from service.llm import LLMStatus, chat_model, check
from service.models import Answer, Audience, Evidence, Filters, ReviewStatus, Trace
from service.rerank import NLIScorer
from service.retrieval import Catalog, HybridRetriever, Retrieved
from service.texts import DISCLAIMERS, PENDING_REVIEW
from service.understanding import QueryAnalysis, QueryAnalyzer
from service.verify import Verifier
from service.vocabulary import Vocabulary
from service.workflow import ReviewWorkflow, replay

log = logging.getLogger(__name__)
NOT_SAVED = ("This answer could not be saved (the conversation store refused the write); it cannot be reviewed "
             "or followed up. Please tell the site's administrator.")


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """Readiness as /readyz reports it."""

    ready: bool
    documents: int
    chunks: int
    llm: LLMStatus


@dataclass(frozen=True, slots=True)
class _Plan:
    """A question made ready for composition: rewritten, understood, retrieved and judged by the gate."""

    question: str
    query: str
    audience: Audience
    conversation_id: str
    new_conversation: bool
    secret: str  # the new conversation's secret ('' when continuing one)
    history: list[Turn]
    analysis: QueryAnalysis
    retrieved: Retrieved
    verdict: Verdict
    t0: float
    t1: float


class AnswerService:
    """Answers questions over one index; collaborators default from settings and can be passed in."""

    def __init__(
        self,
        settings: Settings,
        *,
        index: Index | None = None,
        retriever: HybridRetriever | None = None,
        composer: Composer | None = None,
        conversations: ConversationStore | None = None,
    ) -> None:
        self.settings = settings
        self.index = index or Index.open(settings)
        self.catalog = retriever.catalog if retriever else Catalog(self.index)
        self.retriever = retriever or HybridRetriever(self.catalog, settings.retrieval)
        self.conversations = conversations or ConversationStore(settings.conversations_url,
                                                                max_turns=settings.api.max_turns)
        topics = [t for d in self.catalog.documents.values() for t in (*d.topics, d.title)]
        self.vocabulary = Vocabulary(self.catalog.documents.values())
        self.analyzer = QueryAnalyzer(self.vocabulary, settings.answerability)
        self.gate = AnswerabilityGate(settings.answerability)
        self.verifier = Verifier(settings.verify, self.index.embedder, self.vocabulary,
                                 NLIScorer(settings.verify.nli_path) if settings.verify.nli_path else None)
        self.extractive = ExtractiveComposer(settings.compose)
        self.rule_rewriter = FollowUpRewriter(topics)
        self.rewriter: Rewriter = self.rule_rewriter
        self.composer: Composer = composer or self.extractive
        llm = settings.llm
        self.llm_status = LLMStatus(self.composer.name, llm.provider, llm.model)
        if composer is None and llm.provider != "none":
            model = chat_model(llm)
            self.composer = LLMComposer(llm, model, self.verifier, self.extractive)
            if llm.rewrite_followups:
                self.rewriter = LLMRewriter(model, self.rule_rewriter)
            self.llm_status = LLMStatus(self.composer.name, llm.provider, llm.model)

    def check_llm(self) -> LLMStatus:
        """Ask the configured model for a one-word reply; on failure answer extractively from now on."""
        if not isinstance(self.composer, LLMComposer):
            return self.llm_status
        llm = self.settings.llm
        try:
            check(self.composer.model)
        except Exception as exc:  # the service must start whatever the model server does
            why = describe(exc)
            log.warning("LLM %s:%s failed its start-up check (%s); answering extractively", llm.provider,
                        llm.model, why)
            self.composer, self.rewriter = self.extractive, self.rule_rewriter
            self.llm_status = LLMStatus(self.extractive.name, llm.provider, llm.model, False,
                                        f"start-up check failed: {why}; using the extractive composer")
        else:
            self.llm_status = LLMStatus(self.composer.name, llm.provider, llm.model, True,
                                        "answered the start-up check")
        return self.llm_status

    def status(self) -> ServiceStatus:
        """What /readyz reports: whether passages are loaded, how many, and which composer answers."""
        documents, chunks = self.index.counts()
        return ServiceStatus(ready=self.ready(), documents=documents, chunks=chunks, llm=self.llm_status)

    def close(self) -> None:
        """Release the index and the conversation store."""
        self.conversations.close()
        self.index.close()

    def ready(self) -> bool:
        """True when the index holds passages."""
        return len(self.catalog) > 0

    def validate(self, question: str, filters: Filters | None) -> str:
        """The question trimmed, or InvalidInputError naming what to fix."""
        text = " ".join(question.split())
        if not text:
            raise InvalidInputError("question is empty")
        limit = self.settings.api.max_question_chars
        if len(text) > limit:
            raise InvalidInputError(f"question is {len(text)} characters; the limit is {limit}")
        if filters:
            docs = self.catalog.documents.values()
            for label, wanted, known in (
                ("issuer", filters.issuers, {d.issuer for d in docs}),
                ("specialty", filters.specialties, {d.specialty for d in docs}),
            ):
                lowered = {k.casefold() for k in known}
                unknown = [w for w in wanted if w.casefold() not in lowered]
                if unknown:
                    raise InvalidInputError(
                        f"unknown {label} {', '.join(unknown)}; known: {', '.join(sorted(k for k in known if k))}"
                    )
            if filters.year_from and filters.year_to and filters.year_from > filters.year_to:
                raise InvalidInputError("year_from is after year_to")
        return text

    def normalise(self, filters: Filters | None) -> Filters | None:
        """Filters with issuers and specialties in the catalog's spelling ("nice" → "NICE"): they are matched
        case-insensitively here but exactly in the vector store, where another case would match nothing."""
        if not filters:
            return filters
        docs = self.catalog.documents.values()

        def spelled(wanted: tuple[str, ...], known: set[str]) -> tuple[str, ...]:
            by_fold = {k.casefold(): k for k in sorted(known) if k}
            return tuple(dict.fromkeys(by_fold.get(w.casefold(), w) for w in wanted))

        return dataclasses.replace(filters, issuers=spelled(filters.issuers, {d.issuer for d in docs}),
                                   specialties=spelled(filters.specialties, {d.specialty for d in docs}))

    def ask(
        self,
        question: str,
        *,
        conversation_id: str | None = None,
        audience: Audience = "clinician",
        filters: Filters | None = None,
        earlier: Sequence[str] = (),
        create_conversation: bool = False,
        conversation_secret: str | None = None,
    ) -> Answer:
        """Answer a question (a follow-up when conversation_id names an earlier conversation and
        conversation_secret is its secret)."""
        answer: Answer | None = None
        for item in self.ask_stream(question, conversation_id=conversation_id, audience=audience, filters=filters,
                                    earlier=earlier, create_conversation=create_conversation,
                                    conversation_secret=conversation_secret):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None  # ask_stream always ends with the Answer
        return answer

    def ask_stream(
        self,
        question: str,
        *,
        conversation_id: str | None = None,
        audience: Audience = "clinician",
        filters: Filters | None = None,
        earlier: Sequence[str] = (),
        create_conversation: bool = False,
        conversation_secret: str | None = None,
    ) -> Iterator[SentenceEvent | Answer]:
        """The answer's sentences as the composer finishes (and verifies) them, then the stored Answer.

        `earlier` are questions a client kept itself (the OpenAI chat API resends them); they are the conversation
        when no stored one is named. `create_conversation` opens `conversation_id` when it is not known yet, owned
        by `conversation_secret`. A conversation opened here gets a new secret, returned once on the answer
        (`conversation_secret`); continuing one needs it, and a wrong one is NotFoundError like an unknown id.
        Validation, retrieval and the gate run on the call, so bad input raises before any iteration.
        A first question without filters gets the latest approved answer to it, when there is one."""
        filters = self.normalise(filters)
        opening = not conversation_id or (create_conversation and not self.conversations.exists(conversation_id))
        secret = (conversation_secret if create_conversation and conversation_secret else new_secret()) \
            if opening else ""
        first = not earlier and (filters is None or filters.empty) and opening
        if first and self.settings.review.reuse_approved:
            reused = self.workflow.reuse(self.validate(question, filters), audience, conversation_id, secret=secret)
            if reused is not None:
                reused.conversation_secret = secret
                return replay(reused)
        items = self._answer(self._plan(question, conversation_id, audience, filters, earlier,
                                        None if opening else conversation_secret, secret))
        return self.workflow.remember(items) if first else items

    def _plan(self, question: str, conversation_id: str | None, audience: Audience, filters: Filters | None,
              earlier: Sequence[str], owner: str | None, secret: str) -> _Plan:
        t0 = time.perf_counter()
        question = self.validate(question, filters)
        history: list[Turn] = []
        if not secret and conversation_id:
            new_conversation = False
            history = self.conversations.history(conversation_id, owner)
            if len(history) >= self.conversations.max_turns:
                raise ConflictError(f"conversation {conversation_id} has reached its {self.conversations.max_turns}"
                                    " turns; start a new conversation")
        else:
            new_conversation = True
            conversation_id = conversation_id or new_id()
        if not history and earlier:
            history = [Turn(q, q, self.analyzer.analyze(q).subject) for q in earlier if q.strip()]
        query = self.rewriter.rewrite(question, history)
        analysis = self.analyzer.analyze(query)
        if query != question:
            # A follow-up's own ask beats the earlier question's; words of the earlier question that the corpus
            # lacks were judged when it was asked.
            own = detect_ask(question)
            typed = question.casefold()
            analysis = dataclasses.replace(analysis, ask=own if own is not Ask.OTHER else analysis.ask,
                                           unknown=tuple(u for u in analysis.unknown if u.text.casefold() in typed))
        retrieved = self.retriever.retrieve(analysis.retrieval_query, filters=filters, audience=audience,
                                            prefer=self.gate.subject_docs(analysis) | analysis.named_docs,
                                            prefer_boost=self.settings.answerability.subject_boost)
        verdict = self.gate.assess(analysis, retrieved.evidence, retrieved.query_vector)
        return _Plan(question, query, audience, conversation_id, new_conversation, secret, history, analysis,
                     retrieved, verdict, t0, time.perf_counter())

    def _answer(self, plan: _Plan) -> Iterator[SentenceEvent | Answer]:
        analysis, retrieved, verdict = plan.analysis, plan.retrieved, plan.verdict
        reason = verdict.reason
        composed: Composition | None = None
        if verdict.answerable:
            request = ComposeRequest(plan.query, retrieved.query_vector, verdict.evidence, plan.audience, analysis,
                                     tuple(t.question for t in plan.history))
            for item in self.composer.stream(request):
                if isinstance(item, Composition):
                    composed = item
                else:
                    yield item
            assert composed is not None
            if composed.abstained:
                about = f" on {analysis.subject}" if analysis.subject else ""
                reason = f"No sentence of the guidelines found{about} answers the question."
        else:
            composed = Composition([], [], [], verdict.signals.cosine, True, [], composer=self.composer.name)
        if composed.abstained:
            composed.nearest_topics = self._nearest(retrieved.evidence, verdict.subject_docs)
        t2 = time.perf_counter()
        years = [r.year for r in composed.references if r.year]
        answer = Answer(
            id=new_id(),
            question=plan.question,
            query=plan.query,
            audience=plan.audience,
            summary_sentences=composed.summary,
            key_points=composed.key_points,
            references=composed.references,
            abstained=composed.abstained,
            abstention_reason=reason if composed.abstained else "",
            nearest_topics=composed.nearest_topics,
            review_status=ReviewStatus.SUBMITTED,
            pending_review=PENDING_REVIEW,
            last_updated=str(max(years)) if years else "",
            disclaimer=DISCLAIMERS[plan.audience],
            composer=composed.composer,
            confidence=round(composed.confidence, 4),
            conversation_id=plan.conversation_id,
            created_at=now_iso(),
            trace=Trace(subject=analysis.subject, terms=tuple(dict.fromkeys(m.term.name for m in analysis.subjects)),
                        ask=analysis.ask.value, populations=analysis.populations, signals=verdict.signals,
                        gate_abstained=not verdict.answerable,
                        ranking=tuple(retrieved.ranking[:50]),
                        k=len(retrieved.evidence)),
            notes=composed.notes,
            verification=composed.verification,
        )
        answer.timings_ms = {
            **{k: round(v, 2) for k, v in retrieved.timings_ms.items()},
            "retrieve": round((plan.t1 - plan.t0) * 1000, 2),
            "compose": round((t2 - plan.t1) * 1000, 2),
        }
        topic = analysis.subject if analysis.subjects else self._topic(answer)
        topic = topic or (plan.history[-1].topic if plan.history else "")
        try:
            self.conversations.save(answer, topic, new_conversation=plan.new_conversation, secret=plan.secret)
        except OperationalError as exc:
            # The database cannot take the write (disk full, read-only, I/O error): the reader still gets the
            # answer; the transaction rolled back, so what is stored stays whole.
            log.error("answer %s not saved: %s", answer.id, exc.orig or exc)
            answer.notes = [*answer.notes, NOT_SAVED]
        answer.conversation_secret = plan.secret
        answer.timings_ms["total"] = round((time.perf_counter() - plan.t0) * 1000, 2)
        yield answer

    def _nearest(self, evidence: list[Evidence], subject_docs: frozenset[str]) -> list[str]:
        """Covered topics nearest to an abstained question: its subject's guidelines, then the retrieved ones."""
        docs = self.catalog.documents
        ids = [d for d in sorted(subject_docs) if d in docs] + [e.document.id for e in evidence]
        titles = [docs[d].topics[0] if docs[d].topics else docs[d].title for d in ids]
        return list(dict.fromkeys(titles))[:5]

    def _topic(self, answer: Answer) -> str:
        """The topic an answer was about: the first topic of its first reference."""
        if not answer.references:
            return ""
        doc = self.catalog.documents.get(answer.references[0].doc_id)
        if doc is None:
            return ""
        return doc.topics[0] if doc.topics else doc.title

    @cached_property
    def workflow(self) -> ReviewWorkflow:
        """Review of the stored answers: transitions, edits, reuse, the re-ingest check."""
        return ReviewWorkflow(self.conversations, verifier=self.verifier,
                              max_note_chars=self.settings.review.max_note_chars,
                              hashes=lambda: {d: h for d, (h, _) in self.index.store.document_hashes().items()})

    def get(self, answer_id: str) -> Answer:
        """A stored answer with its current review status (approved ones name the reviewer and date)."""
        return self.workflow.get(answer_id)

    def review(self, answer_id: str, status: ReviewStatus, *, actor: str, note: str = "") -> Answer:
        """Move an answer through review (ConflictError naming the allowed moves when refused)."""
        self.workflow.transition(answer_id, status, actor=actor, note=note)
        return self.get(answer_id)
