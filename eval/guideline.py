"""The in-scope guideline gold set: answerable, out-of-corpus and near-miss questions over the bundled corpus.

Records use the shared schema; `meta` carries `kind`, `ask`, `audience`, `doc_ids`, `must_have` (facts, each a list
of accepted phrasings), `history` (earlier questions of a follow-up) and `split` (dev or test). Tune on dev only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medcite.errors import CorpusError

KINDS = ("answerable", "out_of_corpus", "near_miss")
SPLITS = ("dev", "test")
DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DEFAULT_GUIDELINE_GOLD = Path(__file__).parent / "data" / "guideline_questions.jsonl"


@dataclass(frozen=True, slots=True)
class GuidelineQuestion:
    """One question of the guideline set and what a correct answer must do."""

    id: str
    question: str
    answer: str
    kind: str  # answerable / out_of_corpus / near_miss
    ask: str
    audience: str
    split: str
    doc_ids: tuple[str, ...] = ()
    must_have: tuple[tuple[str, ...], ...] = ()
    history: tuple[str, ...] = ()


def is_guideline_gold(path: Path) -> bool:
    """True when a gold file's first record carries the guideline set's meta.kind."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    meta = json.loads(line).get("meta") or {}
                except (json.JSONDecodeError, AttributeError):
                    return False
                return isinstance(meta, dict) and meta.get("kind") in KINDS
    return False


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CorpusError(f"{where}: meta.{key} must be a list of strings")
    return tuple(v.strip() for v in value)


def load_guideline_questions(path: Path) -> list[GuidelineQuestion]:
    """Parse and validate the guideline gold file."""
    if not path.is_file():
        raise CorpusError(f"{path}: no such gold file")
    out: list[GuidelineQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CorpusError(f"{where}: malformed JSON: {exc.msg}") from None
        meta = raw.get("meta") if isinstance(raw, dict) else None
        if not isinstance(meta, dict) or meta.get("kind") not in KINDS:
            raise CorpusError(f"{where}: meta.kind must be one of {', '.join(KINDS)}")
        if meta.get("split") not in SPLITS:
            raise CorpusError(f"{where}: meta.split must be dev or test")
        kind = meta["kind"]
        facts = tuple(_strings(f, where, "must_have") for f in meta.get("must_have") or ())
        doc_ids = _strings(meta.get("doc_ids") or [], where, "doc_ids")
        if kind == "answerable" and (not facts or not doc_ids):
            raise CorpusError(f"{where}: answerable questions need meta.doc_ids and meta.must_have")
        out.append(GuidelineQuestion(
            id=str(raw["id"]), question=" ".join(str(raw["question"]).split()), answer=str(raw.get("answer", "")),
            kind=kind, ask=str(meta.get("ask", "other")), audience=str(meta.get("audience", "clinician")),
            split=meta["split"], doc_ids=doc_ids, must_have=facts,
            history=_strings(meta.get("history") or [], where, "history")))
    if len({q.id for q in out}) != len(out):
        raise CorpusError(f"{path}: record ids are not unique")
    return out


def normalise(text: str) -> str:
    """Case-folded, dash- and space-normalised text for phrase matching."""
    for dash in ("\u2010", "\u2011", "\u2012", "\u2013", "\u2014"):
        text = text.replace(dash, "-")
    return " ".join(text.casefold().split())


def facts_found(facts: Sequence[Sequence[str]], text: str) -> int:
    """How many facts have at least one accepted phrasing in the text."""
    haystack = normalise(text)
    return sum(any(normalise(p) in haystack for p in fact) for fact in facts)
