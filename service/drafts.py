"""What the LLM returns: sentences with the passage numbers that support each, and a tolerant parser for models
without structured output (JSON in prose or fences, or plain text with [n] markers)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from medcite.errors import LLMError

_ITEM = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "One sentence, without citation markers."},
        "citations": {"type": "array", "items": {"type": "integer"},
                      "description": "Numbers of the passages that state this sentence."},
    },
    "required": ["text", "citations"],
    "additionalProperties": False,
}
DRAFT_SCHEMA: dict[str, Any] = {
    "title": "cited_answer",
    "description": "An answer written only from the numbered guideline passages, each sentence citing them.",
    "type": "object",
    "properties": {
        "summary": {"type": "array", "items": _ITEM, "description": "2-4 sentences that answer the question."},
        "key_points": {"type": "array", "items": _ITEM, "description": "Up to 6 further cited points."},
    },
    "required": ["summary", "key_points"],
    "additionalProperties": False,
}

_MARK = re.compile(r"\s*[\[【]\s*(\d+(?:\s*[,;–-]\s*\d+)*)\s*[\]】]")
_BOUNDARY = re.compile(r"(?<=[.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])*)\s+(?=[A-Z0-9\"'(\[])")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_KEY_HEADING = re.compile(r"^\W*key\s*points?\W*$", re.IGNORECASE)
_STOP_HEADING = re.compile(r"^\W*(references|sources|citations|disclaimer)\W*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_SUMMARY_KEYS = ("summary", "lead", "answer", "sentences")
_KEY_KEYS = ("key_points", "keyPoints", "key points", "points")
_CITE_KEYS = ("citations", "cites", "citation", "sources", "refs", "passages")


@dataclass(frozen=True, slots=True)
class DraftSentence:
    """A sentence the model wrote and the passage numbers it gave for it."""

    text: str
    citations: tuple[int, ...]
    part: str = "summary"  # summary or key_points


def _numbers(value: Any) -> tuple[int, ...]:
    if isinstance(value, bool):
        return ()
    if isinstance(value, int):
        return (value,)
    if isinstance(value, str):
        return tuple(int(n) for n in re.findall(r"\d+", value))
    if isinstance(value, list | tuple):
        return tuple(n for v in value for n in _numbers(v))
    return ()


def _item(value: Any, part: str) -> list[DraftSentence]:
    if isinstance(value, str):
        return [DraftSentence(t, c, part) for t, c in split_cited(value)]
    if not isinstance(value, Mapping):
        return []
    text = str(value.get("text") or value.get("sentence") or "").strip()
    cites = next((_numbers(value[k]) for k in _CITE_KEYS if k in value), ())
    if not text:
        return []
    inline = split_cited(text)
    if len(inline) == 1:
        return [DraftSentence(inline[0][0], tuple(dict.fromkeys((*cites, *inline[0][1]))), part)]
    return [DraftSentence(t, tuple(dict.fromkeys((*cites, *c))) or cites, part) for t, c in inline]


def from_object(obj: Any, *, final: bool = True) -> list[DraftSentence]:
    """Sentences of a (possibly partial, while streaming) structured reply; when not final, the last item of
    the list being written may be incomplete and is left out."""
    if not isinstance(obj, Mapping):
        return []
    parts: list[list[DraftSentence]] = []
    lists = [next((obj[k] for k in keys if k in obj), None) for keys in (_SUMMARY_KEYS, _KEY_KEYS)]
    for i, (values, part) in enumerate(zip(lists, ("summary", "key_points"), strict=True)):
        if not isinstance(values, list):
            values = [values] if values else []
        writing = not final and (i == 1 or lists[1] is None)
        items = values[:-1] if writing else values
        parts.append([s for v in items for s in _item(v, part)])
    return [s for p in parts for s in p]


def split_cited(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences of text with [n] markers, each with its citation numbers and the markers removed."""
    out = []
    pieces = _BOUNDARY.split(text.strip())
    # split() interleaves the captured trailing markers: sentence, markers, sentence, markers, ..., sentence
    for k in range(0, len(pieces), 2):
        piece = pieces[k] + (pieces[k + 1] if k + 1 < len(pieces) and pieces[k + 1] else "")
        cites = tuple(dict.fromkeys(n for m in _MARK.findall(piece) for n in _numbers(m)))
        clean = re.sub(r"\s+([.,;:!?])", r"\1", _MARK.sub("", piece)).strip()
        if clean:
            out.append((clean, cites))
    return out


def _json_in(text: str) -> Any | None:
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return json.loads(body[start:end + 1])
    except json.JSONDecodeError:
        return None


def from_text(text: str) -> list[DraftSentence]:
    """Sentences of a plain-text reply: JSON anywhere in it, else lines with [n] markers (a "Key points" heading
    starts the key points; a "References" heading ends the answer)."""
    obj = _json_in(text)
    if obj is not None:
        return from_object(obj)
    out: list[DraftSentence] = []
    part = "summary"
    for line in text.splitlines():
        stripped = line.strip().strip("#").strip()
        if not stripped:
            continue
        if _STOP_HEADING.match(stripped):
            break
        if _KEY_HEADING.match(stripped):
            part = "key_points"
            continue
        if _BULLET.match(line):
            part = "key_points" if out else part
        body = _BULLET.sub("", stripped)
        out.extend(DraftSentence(t, c, part) for t, c in split_cited(body))
    return out


def parse(reply: Any) -> list[DraftSentence]:
    """Sentences of any reply shape; LLMError when nothing usable came back."""
    sentences = from_text(reply) if isinstance(reply, str) else from_object(reply)
    if not any(s.part == "summary" for s in sentences) and sentences:
        sentences = [DraftSentence(s.text, s.citations, "summary") if i < 4 else s for i, s in enumerate(sentences)]
    if not sentences:
        raise LLMError("the model's reply holds no sentences")
    return sentences

