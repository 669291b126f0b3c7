"""Regression check against a committed metrics.json: every metric that got worse by more than a tolerance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eval.aggregate import LOWER_IS_BETTER, NOT_COMPARED, MetricsRow


@dataclass(frozen=True, slots=True)
class Regression:
    """A metric worse than its baseline by more than the tolerance (current None = missing)."""

    system: str
    set: str
    metric: str
    baseline: float
    current: float | None

    def describe(self) -> str:
        """One line naming the metric and both values."""
        where = f"{self.system}/{self.set} {self.metric}"
        if self.current is None:
            return f"{where}: missing (baseline {self.baseline:.4f})"
        direction = "lower is better" if self.metric in LOWER_IS_BETTER else "higher is better"
        return f"{where}: {self.current:.4f} vs baseline {self.baseline:.4f} ({direction})"


def compare(current: Sequence[MetricsRow], baseline: Sequence[MetricsRow], tolerance: float) -> list[Regression]:
    """Regressions of `current` against `baseline`; within the gold sets evaluated now, missing systems and
    metrics count too (a baseline row of a set not evaluated in this run is skipped)."""
    now = {(r.system, r.set): r for r in current}
    evaluated = {r.set for r in current}
    out: list[Regression] = []
    for base in baseline:
        if base.set not in evaluated:
            continue
        row = now.get((base.system, base.set))
        for metric, value in base.values.items():
            if value is None or metric in NOT_COMPARED:
                continue
            got = row.values.get(metric) if row is not None else None
            if got is None:
                out.append(Regression(base.system, base.set, metric, value, None))
                continue
            worse = got - value if metric in LOWER_IS_BETTER else value - got
            if worse > tolerance + 1e-9:
                out.append(Regression(base.system, base.set, metric, value, got))
    return out
