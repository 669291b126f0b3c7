"""Review notes: what a digest's writers left for its reviewers, which no answer quotes.

A digest may end with a "Review notes" section of sentences such as "Not stated here pending verification: the
titration schedules, ...". They list what the digest does not state; they are not guidance, so they never lead
or support an answer, and a note naming a dose does not count as a sentence that states one.
"""

from __future__ import annotations

import re

_NOTE_SECTION = re.compile(r"\breview notes?\b", re.IGNORECASE)
_NOT_STATED = re.compile(r"^\s*not stated here\b", re.IGNORECASE)


def is_note(section: str, text: str) -> bool:
    """A review note: written for the digest's reviewers, never quoted in an answer."""
    return bool(_NOTE_SECTION.search(section) or _NOT_STATED.match(text))
