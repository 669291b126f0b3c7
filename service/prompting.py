"""The versioned answer prompt: numbered passages with their guideline metadata, the reader, the question's
subject and ask, and the conversation so far, rendered into chat messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jinja2 import Environment, StrictUndefined

from service.models import Audience, Evidence
from service.understanding import QueryAnalysis

PROMPTS = Path(__file__).resolve().parent / "prompts"
PROMPT_VERSION = "answer-v1"
_SPLIT = "=== user ==="


@dataclass(frozen=True, slots=True)
class PromptPassage:
    issuer: str
    year: int | None
    title: str
    section: str
    superseded_by: str
    text: str


@cache
def _template(version: str) -> str:
    path = PROMPTS / f"{version}.md"
    return path.read_text(encoding="utf-8")


def render(
    question: str,
    evidence: Sequence[Evidence],
    audience: Audience,
    analysis: QueryAnalysis | None,
    history: Sequence[str] = (),
    version: str = PROMPT_VERSION,
) -> tuple[str, str]:
    """(system, user) messages of the prompt."""
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    passages = [PromptPassage(e.document.issuer, e.document.year, e.document.title, e.chunk.section,
                              e.superseded_by, e.chunk.text) for e in evidence]
    text = env.from_string(_template(version)).render(
        question=question,
        audience=audience,
        ask=analysis.ask.value if analysis else "",
        subject=analysis.subject if analysis else "",
        terms=list(dict.fromkeys(m.term.name for m in analysis.subjects)) if analysis else [],
        populations=list(analysis.populations) if analysis else [],
        history=list(history),
        passages=passages,
    )
    system, _, user = text.partition(_SPLIT)
    return system.strip(), user.strip()
