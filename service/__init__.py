"""Answer service core: understand, retrieve, gate and compose cited answers (the HTTP app is service.api)."""

from service.answerability import AnswerabilityGate, Verdict, decide
from service.answering import AnswerService
from service.compose import Composer, Composition, ExtractiveComposer
from service.conversations import ConversationStore
from service.followup import FollowUpRewriter, Turn
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
)
from service.retrieval import Catalog, HybridRetriever, Retrieved
from service.understanding import Ask, QueryAnalysis, QueryAnalyzer
from service.vocabulary import Vocabulary

__all__ = [
    "Answer",
    "AnswerService",
    "AnswerabilityGate",
    "Ask",
    "Audience",
    "Catalog",
    "CitedSentence",
    "Composer",
    "Composition",
    "ConversationStore",
    "Evidence",
    "ExtractiveComposer",
    "Filters",
    "FollowUpRewriter",
    "HybridRetriever",
    "KeyPoint",
    "QueryAnalysis",
    "QueryAnalyzer",
    "QuotedSpan",
    "Reference",
    "Retrieved",
    "ReviewStatus",
    "Signals",
    "Trace",
    "Turn",
    "Verdict",
    "Vocabulary",
    "decide",
]
