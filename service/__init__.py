"""Answer service: retrieve guideline passages and compose cited answers, over HTTP and the CLI."""

from service.answering import AnswerService
from service.api import create_app
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
)
from service.retrieval import Catalog, HybridRetriever, Retrieved

__all__ = [
    "Answer",
    "AnswerService",
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
    "QuotedSpan",
    "Reference",
    "Retrieved",
    "ReviewStatus",
    "Turn",
    "create_app",
]
