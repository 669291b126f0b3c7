"""Regenerate the table in corpus/README.md from the documents' front matter: `python scripts/corpus_table.py`."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from ingest import parse_front_matter

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- table:start -->", "<!-- table:end -->"


def table() -> str:
    """The Markdown table of every corpus document."""
    rows = [
        "| id | issuer | year | specialty | audience | topic | words |",
        "| --- | --- | ---: | --- | --- | --- | ---: |",
    ]
    for path in sorted(ROOT.glob("corpus/*/*.md")):
        meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
        topic = (meta.get("topics") or [""])[0]
        words = len(re.findall(r"\S+", body))
        rows.append(
            f"| {meta['id']} | {meta['issuer']} | {meta['year']} | {meta.get('specialty', '')} | "
            f"{meta.get('audience', 'clinician')} | {topic} | {words} |"
        )
    return "\n".join(rows)


def main() -> int:
    """Rewrite the table between the markers; exit 1 with --check when it is out of date."""
    readme = ROOT / "corpus" / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = text[: text.index(START) + len(START)] + "\n" + table() + "\n" + text[text.index(END) :]
    if "--check" in sys.argv:
        return 0 if new == text else 1
    readme.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
