"""The 1-minute load average around each timed section of a benchmark; loaded runs are refused or marked.

A 2-core machine shared with other jobs gives numbers that cannot be compared, so a benchmark records the load
before and after every timed section and refuses to write its results when the load was above the limit as a
section started, unless `--force`, which writes them marked "loaded". Before each section it waits (bounded) for
the load of the previous one to decay: a section that keeps both cores busy raises the 1-minute average to about
2 by itself, so the load after a section is recorded but says nothing about other jobs.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

LIMIT = 1.5


class LoadGuard:
    """Collects (section, load before, load after) and decides whether the run was quiet."""

    def __init__(self, force: bool, limit: float = LIMIT, settle_s: float = 180.0) -> None:
        self.force = force
        self.limit = limit
        self.settle_s = settle_s
        self.sections: list[tuple[str, float, float]] = []

    def _settled(self) -> float:
        """The 1-minute load once it is at or below the limit, or after settle_s seconds, whichever is first."""
        deadline = time.monotonic() + self.settle_s
        while (now := os.getloadavg()[0]) > self.limit and time.monotonic() < deadline:
            time.sleep(5)
        return now

    def precheck(self) -> None:
        """Exit at once (one line, status 3) when the machine is already loaded and --force was not given."""
        now = os.getloadavg()[0]
        if now > self.limit and not self.force:
            sys.exit(f"load average {now:.2f} is above {self.limit}: wait for a quiet machine or pass --force "
                     "(results are then marked loaded)")

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        """Record the 1-minute load average before (once settled) and after the block."""
        before = self._settled()
        yield
        self.sections.append((name, before, os.getloadavg()[0]))

    @property
    def loaded(self) -> bool:
        """Whether any timed section started above the limit (its own work raises the load after it)."""
        return any(before > self.limit for _, before, _ in self.sections)

    @property
    def label(self) -> str:
        """"quiet" or "LOADED" with the limit, for the results' header."""
        peak = max((b for _, b, _ in self.sections), default=0.0)
        if self.loaded:
            return f"**LOADED** (1-min load average up to {peak:.2f} > {self.limit} as a section started; " \
                "figures not comparable)"
        return f"quiet (1-min load average ≤ {self.limit} as every timed section started, peak {peak:.2f})"

    def rows(self) -> list[tuple[str, str]]:
        """One table row per timed section: its load before → after."""
        return [(f"load average (1 min) around {name}", f"{before:.2f} → {after:.2f}")
                for name, before, after in self.sections]

    def allow_write(self) -> None:
        """Exit non-zero with one line when the run was loaded and --force was not given."""
        if self.loaded and not self.force:
            peak = max(b for _, b, _ in self.sections)
            sys.exit(f"load average was {peak:.2f} (> {self.limit}) as timing started: results not written; "
                     "rerun on a quiet machine or pass --force to write them marked loaded")
