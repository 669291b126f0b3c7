"""The OpenAI chat-completions shapes medcite speaks, and the Markdown rendering of an answer for them.

Citations travel three ways: a top-level `citations` list of URLs (the Perplexity shape), a documented top-level
`references` list with medcite's full reference objects, and `message.annotations` of type `url_citation` whose
`start_index`/`end_index` point at each [n] marker in the content.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from service.api.schemas import FiltersIn, ReferenceOut, sentence_piece
from service.compose import SentenceEvent
from service.models import Answer, Audience, Reference

MODEL_ID = "medcite"
_MARKER = re.compile(r"\[(\d+)\]")


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The message's text (content parts of type text joined)."""
        if isinstance(self.content, str):
            return self.content
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") in ("text", "input_text"))
        return ""


class ChatMetadata(BaseModel):
    """medcite's options inside the request's `metadata` object."""

    model_config = ConfigDict(extra="ignore")

    audience: Audience = Field("clinician", description="Who will read the answer.")
    filters: FiltersIn | None = Field(None, description="As in POST /v1/answers; an object or a JSON string.")

    @field_validator("filters", mode="before")
    @classmethod
    def _json_string(cls, value: Any) -> Any:
        if isinstance(value, str):  # OpenAI's metadata values are strings
            try:
                return json.loads(value) if value.strip() else None
            except json.JSONDecodeError as exc:
                raise ValueError(f"metadata.filters is not JSON: {exc.msg}") from exc
        return value


class ChatRequest(BaseModel):
    """POST /v1/chat/completions. Unknown OpenAI fields (temperature, max_tokens, ...) are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(MODEL_ID, description="Any value; medcite answers as `medcite`.")
    messages: list[ChatMessage] = Field(..., min_length=1, description="The last user message is the question.")
    stream: bool = False
    user: str | None = Field(None, description="Continues this end user's stored conversation.")
    medcite_conversation_id: str | None = Field(None, description="Continues a stored medcite conversation.")
    metadata: ChatMetadata | None = Field(None, description="medcite options: audience and filters.")

    @field_validator("messages")
    @classmethod
    def _has_user(cls, value: list[ChatMessage]) -> list[ChatMessage]:
        if not any(m.role == "user" for m in value):
            raise ValueError("messages has no user message; the last user message is the question")
        return value

    def question(self) -> str:
        """The last user message."""
        return [m for m in self.messages if m.role == "user"][-1].text()

    def earlier(self) -> list[str]:
        """Earlier user questions: the conversation the client kept."""
        users = [m.text() for m in self.messages if m.role == "user"]
        return users[:-1]


def reference_url(r: Reference) -> str:
    """A link for a reference: its URL, else its DOI, else a medcite document id."""
    if r.url:
        return r.url
    if r.doi:
        return f"https://doi.org/{r.doi}"
    return f"medcite:{r.doc_id}"


def sentence_markdown(e: SentenceEvent, headings: set[str]) -> str:
    """A verified sentence as Markdown; the first key point under a heading brings it in bold."""
    return sentence_piece(e, headings, "**{}**")


def tail_markdown(a: Answer) -> str:
    """Everything after the sentences: the abstention, references, review status and disclaimer."""
    parts = []
    if a.abstained:
        nearest = f" Nearest covered topics: {', '.join(a.nearest_topics)}." if a.nearest_topics else ""
        parts.append(f"**Not covered.** {a.abstention_reason}{nearest}")
    if a.references:
        lines = [f"[{r.number}] {r.issuer} {r.year or ''}. {r.title}. {reference_url(r)}".replace(" .", ".")
                 for r in a.references]
        parts.append("**References**\n" + "\n".join(lines))
    parts += [f"_{note}_" for note in a.notes]
    parts.append(f"_{a.pending_review}_ Last updated: {a.last_updated or 'n/a'}.")
    parts.append(a.disclaimer)
    return "\n\n" + "\n\n".join(parts)


def answer_markdown(a: Answer) -> str:
    """The whole answer as the chat reply's content, exactly as the streamed pieces add up."""
    from service.compose import Composition, events_of

    headings: set[str] = set()
    sentences = Composition(a.summary_sentences, a.key_points, a.references, a.confidence, a.abstained, [])
    content = "".join(sentence_markdown(e, headings) for e in events_of(sentences)).lstrip()
    tail = tail_markdown(a)
    return content + (tail if content else tail.lstrip())


def url_annotations(content: str, a: Answer) -> list[dict[str, Any]]:
    """A url_citation for every [n] marker before the reference list."""
    by_number = {r.number: r for r in a.references}
    end = content.find("**References**")
    body = content if end < 0 else content[:end]
    out = []
    for m in _MARKER.finditer(body):
        ref = by_number.get(int(m.group(1)))
        if ref is not None:
            out.append({"type": "url_citation", "url_citation": {
                "url": reference_url(ref), "title": f"{ref.issuer} {ref.year or ''}: {ref.title}".strip(),
                "start_index": m.start(), "end_index": m.end()}})
    return out


def citation_fields(a: Answer) -> dict[str, Any]:
    """The top-level citation fields (present, possibly empty, on every reply)."""
    return {
        "citations": [reference_url(r) for r in a.references],
        "references": [ReferenceOut.from_reference(r).model_dump(mode="json") for r in a.references],
        "medcite": {"answer_id": a.id, "conversation_id": a.conversation_id, "abstained": a.abstained,
                    "review_status": a.review_status.value, "composer": a.composer, "audience": a.audience,
                    "rewritten_query": a.query,
                    **({"conversation_secret": a.conversation_secret} if a.conversation_secret else {})},
    }


class OpenAIErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class OpenAIErrorOut(BaseModel):
    """Every error of the OpenAI-compatible routes, in OpenAI's shape."""

    error: OpenAIErrorDetail


def openai_error(status: int, message: str, kind: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None) -> dict[str, Any]:
    """The OpenAI error body."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code or str(status)}}
