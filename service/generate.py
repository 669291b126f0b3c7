"""The LLM composer: the model writes sentences citing numbered passages, the verifier keeps only supported ones,
and medcite numbers the references and quotes the supporting spans itself.

It only ever sees evidence that passed the answerability gate. When the model times out, errors, refuses or
returns nothing usable, the extractive composer answers instead and the answer says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from medcite.config import LLMSettings
from medcite.errors import LLMError
from service import drafts
from service.compose import Composer, ComposeRequest, Composition, SentenceEvent, confidence_of, events_of
from service.llm import structured
from service.models import CitedSentence, Evidence, KeyPoint, Removal, Verification
from service.prompting import render
from service.references import ReferenceBook
from service.texts import LLM_FALLBACK, LLM_REMOVED
from service.verify import BoundVerifier, Passage, Verifier

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)
_END = object()


def passages_of(evidence: Sequence[Evidence]) -> list[Passage]:
    """The numbered passages the model is shown, as the verifier sees them."""
    return [Passage(e.document.id, tuple(e.chunk.sentence_texts())) for e in evidence]


class _Builder:
    """Accumulates verified sentences into a Composition, numbering references by first use."""

    def __init__(self, evidence: Sequence[Evidence], verifier: BoundVerifier, mark: bool) -> None:
        self.evidence = evidence
        self.verifier = verifier
        self.mark = mark
        self.book = ReferenceBook()
        self.summary: list[CitedSentence] = []
        self.groups: dict[str, list[CitedSentence]] = {}
        self.removed: list[Removal] = []
        self.checked = 0
        self.out_of_range = 0

    @property
    def emitted(self) -> bool:
        return bool(self.summary or self.groups)

    def add(self, batch: Sequence[drafts.DraftSentence]) -> Iterator[SentenceEvent]:
        checks = self.verifier.check_all([(d.text, d.citations) for d in batch])
        for draft, check in zip(batch, checks, strict=True):
            self.checked += 1
            self.out_of_range += len(check.out_of_range)
            if not check.supported:
                self.removed.append(Removal(draft.text, check.reason, draft.citations))
                if not self.mark:
                    continue
            before = len(self.book.references)
            numbers = tuple(dict.fromkeys(self.book.cite(self.evidence[c - 1], j) for c, j in check.supports))
            sentence = CitedSentence(draft.text, numbers, round(check.similarity, 4),
                                     supported=check.supported, reason=check.reason)
            new = tuple(self.book.references[before:])
            if (draft.part == "summary" or not self.summary) and len(self.summary) < 4:
                self.summary.append(sentence)
                yield SentenceEvent("summary", "", sentence, new)
                continue
            heading = self._heading(check.best)
            self.groups.setdefault(heading, []).append(sentence)
            yield SentenceEvent("key_points", heading, sentence, new)

    def _heading(self, best: tuple[int, int] | None) -> str:
        if best is None:
            return "Key points"
        ev = self.evidence[best[0] - 1]
        return ev.chunk.section or ev.document.title

    def composition(self, confidence: float, notes: list[str]) -> Composition:
        key_points = [KeyPoint(h, tuple(items)) for h, items in self.groups.items()]
        verification = Verification(self.checked, self.checked - len(self.removed), tuple(self.removed),
                                    self.out_of_range)
        if self.removed:
            notes = [*notes, LLM_REMOVED.format(n=len(self.removed), s="" if len(self.removed) == 1 else "s",
                                             them="it" if len(self.removed) == 1 else "them")]
        return Composition(self.summary, key_points, self.book.references, confidence, False, [], composer="llm",
                           notes=notes, verification=verification)


class LLMComposer:
    """Composes with a chat model through LangChain; every sentence is verified before anyone sees it."""

    name = "llm"

    def __init__(self, settings: LLMSettings, model: BaseChatModel, verifier: Verifier, fallback: Composer) -> None:
        self.settings = settings
        self.model = model
        self.verifier = verifier
        self.fallback = fallback
        self.runnable = structured(model, drafts.DRAFT_SCHEMA, settings)

    def compose(self, request: ComposeRequest) -> Composition:
        """The whole verified answer (the last item of `stream`)."""
        result: Composition | None = None
        for item in self.stream(request):
            if isinstance(item, Composition):
                result = item
        assert result is not None  # stream always ends with a Composition
        return result

    def stream(self, request: ComposeRequest) -> Iterator[SentenceEvent | Composition]:
        """Verified sentences as the model finishes them, then the Composition; the extractive answer on failure."""
        from langchain_core.messages import HumanMessage, SystemMessage

        evidence = request.evidence
        system, user = render(request.question, evidence, request.audience, request.analysis, request.history)
        builder = _Builder(evidence, self.verifier.bind(passages_of(evidence)), self.settings.unsupported == "mark")
        failure = ""
        try:
            for batch in self._drafts([SystemMessage(system), HumanMessage(user)]):
                yield from builder.add(batch)
            if not builder.summary:
                failure = "none of its sentences was supported by the cited passages" if builder.checked else \
                    "it found no answer in the passages"
        except Exception as exc:  # any client, network or parsing failure means the extractive answer
            failure = describe(exc)
            log.warning("LLM composition failed: %s", failure)
        confidence = confidence_of(evidence, request.query_vector)
        if failure and not builder.emitted:
            fallback = self.fallback.compose(request)
            fallback.notes.append(LLM_FALLBACK.format(why=failure))
            fallback.composer = f"{self.fallback.name} (LLM fallback)"
            fallback.verification = Verification(builder.checked, 0, tuple(builder.removed), builder.out_of_range)
            yield from events_of(fallback)
            yield fallback
            return
        notes = [LLM_FALLBACK.format(why=failure)] if failure else []
        yield builder.composition(confidence, notes)

    def _drafts(self, messages: list[Any]) -> Iterator[list[drafts.DraftSentence]]:
        """Newly finished draft sentences as the reply streams in. The time budget counts waiting for the model
        only, not medcite's verification of what already arrived."""
        waited = 0.0
        done = 0
        last: Any = None
        stream: Iterator[Any] = iter(self.runnable.stream(messages)) if self.runnable is not None \
            else self._text_stream(messages)
        while True:
            t0 = time.monotonic()
            partial = next(stream, _END)
            waited += time.monotonic() - t0
            if partial is _END:
                break
            if waited > self.settings.timeout_s:
                raise LLMError(f"the model took longer than {self.settings.timeout_s:g} s")
            last = partial
            finished = drafts.from_object(partial, final=False) if isinstance(partial, dict) else []
            if len(finished) > done:
                yield finished[done:]
                done = len(finished)
        if last is None:
            raise LLMError("the model returned nothing")
        final = drafts.parse(last)
        if len(final) > done:
            yield final[done:]

    def _text_stream(self, messages: list[Any]) -> Iterator[Any]:
        """Partial JSON objects parsed from a plain-text stream, then the whole text for the tolerant parser."""
        from langchain_core.utils.json import parse_partial_json

        buffer = ""
        for chunk in self.model.stream(messages):
            buffer += _text_of(chunk.content)
            start = buffer.find("{")
            if start >= 0:
                try:
                    partial = parse_partial_json(buffer[start:])
                except ValueError:
                    partial = None
                if isinstance(partial, dict):
                    yield partial
        yield buffer


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content)
    return str(content or "")


def describe(exc: BaseException) -> str:
    """A short reason for the fallback note: timed out, unreachable, an error status, or unusable output."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0][:160] if str(exc) else name
    if "Timeout" in name or "timed out" in text.casefold():
        return "it did not answer in time"
    if "Connect" in name:
        return "it could not be reached"
    if isinstance(exc, LLMError):
        return text
    return f"it failed ({name}: {text})"
