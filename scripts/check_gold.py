#!/usr/bin/env python3
"""Check guideline gold-question files: schema, kinds, asks, and that must-have facts occur in the expected digests.

Usage: python scripts/check_gold.py FILE.jsonl [FILE.jsonl ...]   (exit 1 and one line per problem)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"answerable", "near_miss", "out_of_corpus"}
ASKS = {"treatment", "first_line", "dose", "duration", "time_window", "diagnosis", "screening", "monitoring",
        "pregnancy", "interaction", "comparison", "definition", "prevention", "other"}
KEYS = ["id", "question", "answer", "source", "url", "doc_id", "passages", "meta"]


def norm(text: str) -> str:
    return " ".join(text.casefold().replace("\u2011", "-").replace("\u2013", "-").split())


def digests() -> dict[str, str]:
    out = {}
    for path in ROOT.glob("corpus/*/*.md"):
        out[path.stem] = norm(path.read_text(encoding="utf-8"))
    return out


def check(path: Path, docs: dict[str, str], seen: set[str]) -> list[str]:
    problems: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{n}"
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: bad JSON ({exc.msg})")
            continue
        if list(r) != KEYS:
            problems.append(f"{where}: keys must be exactly {KEYS} in that order")
            continue
        if r["id"] in seen:
            problems.append(f"{where}: duplicate id {r['id']}")
        seen.add(r["id"])
        m = r["meta"]
        kind, ask = m.get("kind"), m.get("ask")
        if kind not in KINDS:
            problems.append(f"{where}: meta.kind must be one of {sorted(KINDS)}")
        if ask not in ASKS:
            problems.append(f"{where}: meta.ask must be one of {sorted(ASKS)}")
        if m.get("audience") not in ("clinician", "patient"):
            problems.append(f"{where}: meta.audience must be clinician or patient")
        if not r["question"].strip() or not r["answer"].strip():
            problems.append(f"{where}: empty question or answer")
        hist = m.get("history", [])
        if not isinstance(hist, list) or not all(isinstance(h, str) and h.strip() for h in hist):
            problems.append(f"{where}: meta.history must be a list of earlier questions")
        if kind == "answerable":
            ids = m.get("doc_ids") or []
            if not ids or r["doc_id"] != ids[0]:
                problems.append(f"{where}: answerable needs meta.doc_ids with doc_id as its first item")
            missing = [i for i in ids if i not in docs]
            if missing:
                problems.append(f"{where}: unknown doc ids {missing}")
                continue
            facts = m.get("must_have")
            if not isinstance(facts, list) or not 1 <= len(facts) <= 3:
                problems.append(f"{where}: must_have needs 1-3 facts")
                continue
            text = " ".join(docs[i] for i in ids)
            for fact in facts:
                if not isinstance(fact, list) or not fact or not all(isinstance(p, str) and p for p in fact):
                    problems.append(f"{where}: each fact is a non-empty list of phrasings")
                elif not any(norm(p) in text for p in fact):
                    problems.append(f"{where}: no phrasing of {fact} occurs in {ids}")
        else:
            if r["doc_id"] is not None or m.get("must_have"):
                problems.append(f"{where}: {kind} questions have doc_id null and no must_have")
    return problems


def main() -> int:
    docs = digests()
    seen: set[str] = set()
    problems = [p for arg in sys.argv[1:] for p in check(Path(arg), docs, seen)]
    for p in problems:
        print(p)
    print(f"{len(seen)} records, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
