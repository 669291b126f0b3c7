"""Replace one `## Heading` section of a Markdown results file, keeping everything else."""

from __future__ import annotations

import re
from pathlib import Path


def write_section(path: Path, heading: str, section: str) -> None:
    """Put `section` (starting with `## {heading}`) into `path`, replacing that section if present."""
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    new, hits = pattern.subn(lambda _: section.rstrip() + "\n\n", old, count=1)
    if not hits:
        new = old.rstrip() + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new.rstrip() + "\n", encoding="utf-8")
