"""Out-of-scope questions: a hand-written set (non-medical and absent topics) and rare-disease questions."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from eval.corpus import Question
from eval.gold import GoldSet
from medcite.errors import CorpusError

if TYPE_CHECKING:
    from ingest import Document

DEFAULT_OOS = Path(__file__).parent / "data" / "out_of_scope.jsonl"
RARE_COLLECTIONS = ("GARD", "GHR")


def load_out_of_scope(path: Path = DEFAULT_OOS) -> list[Question]:
    """Hand-written out-of-scope questions ({"id", "question", "category"} per line)."""
    out: list[Question] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(Question(id=str(raw["id"]), text=str(raw["question"]), kind="out_of_scope"))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path}:{number}: bad out-of-scope item ({exc})") from None
    return out


def rare_disease_questions(gold: GoldSet, corpus_docs: Sequence[Document], *, limit: int, seed: int
                           ) -> list[Question]:
    """GARD/GHR questions whose focus occurs nowhere in the corpus (one per focus), a seeded sample."""
    haystack = "\n".join(" ".join((d.title, *d.topics, d.text)) for d in corpus_docs).casefold()
    by_focus: dict[str, Question] = {}
    for rec in gold.records:
        if rec.collection not in RARE_COLLECTIONS or rec.duplicate_of or not rec.focus:
            continue
        focus = rec.focus.casefold()
        if focus in by_focus or focus in haystack:
            continue
        by_focus[focus] = Question(id=f"rare-{rec.id}", text=rec.question, kind="out_of_scope")
    pool = list(by_focus.values())
    if len(pool) <= limit:
        return pool
    return random.Random(seed).sample(pool, limit)
