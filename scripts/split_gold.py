#!/usr/bin/env python3
"""Merge guideline gold-question files into eval/data/guideline_questions.jsonl, giving each new record a split.

Usage: python scripts/split_gold.py PART.jsonl [PART.jsonl ...]
Records already in the target keep their split; new ones get dev or test from a hash of their id, balanced
within each kind, so adding questions never moves an existing one between halves.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "eval" / "data" / "guideline_questions.jsonl"


def main() -> int:
    existing = [json.loads(x) for x in TARGET.read_text(encoding="utf-8").splitlines() if x.strip()] \
        if TARGET.exists() else []
    known = {r["id"] for r in existing}
    new = [json.loads(x) for arg in sys.argv[1:] for x in Path(arg).read_text(encoding="utf-8").splitlines()
           if x.strip()]
    new = [r for r in new if r["id"] not in known]
    for kind in ("answerable", "out_of_corpus", "near_miss"):
        group = sorted((r for r in new if r["meta"]["kind"] == kind),
                       key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
        for i, r in enumerate(group):
            r["meta"]["split"] = ("dev", "test")[i % 2]
    TARGET.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (*existing, *new)),
                      encoding="utf-8")
    print(f"{len(new)} added, {len(existing) + len(new)} records in {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
