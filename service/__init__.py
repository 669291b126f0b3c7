"""Answer service core: understand, retrieve, gate and compose cited answers (the HTTP app is service.api)."""

from service.answerability import AnswerabilityGate, Verdict, decide
from service.answering import AnswerService
from service.asks import Ask
from service.compose import Composer, ComposeRequest, Composition, ExtractiveComposer, SentenceEvent
from service.conversations import ConversationStore
from service.followup import FollowUpRewriter, LLMRewriter, Turn
from service.generate import LLMComposer
from service.llm import LLMStatus
from service.models import (
    Answer,
    Audience,
    CitedSentence,
    Evidence,
    Filters,
    KeyPoint,
    QuotedSpan,
    Reference,
    ReviewStatus,
    Signals,
    Trace,
    Verification,
)
from service.retrieval import Catalog, HybridRetriever, Retrieved
from service.understanding import QueryAnalysis, QueryAnalyzer
from service.verify import Check, Passage, Verifier
from service.vocabulary import Vocabulary

__all__ = [
    "Answer",
    "AnswerService",
    "AnswerabilityGate",
    "Ask",
    "Audience",
    "Catalog",
    "Check",
    "CitedSentence",
    "ComposeRequest",
    "Composer",
    "Composition",
    "ConversationStore",
    "Evidence",
    "ExtractiveComposer",
    "Filters",
    "FollowUpRewriter",
    "HybridRetriever",
    "KeyPoint",
    "LLMComposer",
    "LLMRewriter",
    "LLMStatus",
    "Passage",
    "QueryAnalysis",
    "QueryAnalyzer",
    "QuotedSpan",
    "Reference",
    "Retrieved",
    "ReviewStatus",
    "SentenceEvent",
    "Signals",
    "Trace",
    "Turn",
    "Verdict",
    "Verification",
    "Verifier",
    "Vocabulary",
    "decide",
]
