"""The 1-minute load average around each timed section of a benchmark; loaded runs are refused or marked.

A 2-core machine shared with other jobs gives numbers that cannot be compared, so a benchmark records the load
before and after every timed section and refuses to write its results when any of them is above the limit,
unless `--force`, which writes them marked "loaded".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

LIMIT = 1.5


class LoadGuard:
    """Collects (section, load before, load after) and decides whether the run was quiet."""

    def __init__(self, force: bool, limit: float = LIMIT) -> None:
        self.force = force
        self.limit = limit
        self.sections: list[tuple[str, float, float]] = []

    def precheck(self) -> None:
        """Exit at once (one line, status 3) when the machine is already loaded and --force was not given."""
        now = os.getloadavg()[0]
        if now > self.limit and not self.force:
            sys.exit(f"load average {now:.2f} is above {self.limit}: wait for a quiet machine or pass --force "
                     "(results are then marked loaded)")

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Record the 1-minute load average before and after the block."""
        before = os.getloadavg()[0]
        yield
        self.sections.append((name, before, os.getloadavg()[0]))

    @property
    def loaded(self) -> bool:
        """Whether any timed section started or ended above the limit."""
        return any(max(before, after) > self.limit for _, before, after in self.sections)

    @property
    def label(self) -> str:
        """"quiet" or "LOADED" with the limit, for the results' header."""
        peak = max((max(b, a) for _, b, a in self.sections), default=0.0)
        if self.loaded:
            return f"**LOADED** (1-min load average up to {peak:.2f} > {self.limit}; figures not comparable)"
        return f"quiet (1-min load average ≤ {self.limit} around every timed section, peak {peak:.2f})"

    def rows(self) -> list[tuple[str, str]]:
        """One table row per timed section: its load before → after."""
        return [(f"load average (1 min) around {name}", f"{before:.2f} → {after:.2f}")
                for name, before, after in self.sections]

    def allow_write(self) -> None:
        """Exit non-zero with one line when the run was loaded and --force was not given."""
        if self.loaded and not self.force:
            peak = max(max(b, a) for _, b, a in self.sections)
            sys.exit(f"load average reached {peak:.2f} (> {self.limit}) during timing: results not written; "
                     "rerun on a quiet machine or pass --force to write them marked loaded")
