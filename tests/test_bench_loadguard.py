"""bench/loadguard.py: a loaded run is refused (one line, non-zero exit) unless forced, then marked loaded."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _loadguard() -> ModuleType:
    spec = importlib.util.spec_from_file_location("loadguard", ROOT / "bench" / "loadguard.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(monkeypatch: pytest.MonkeyPatch, loads: list[float], force: bool) -> object:
    guard = _loadguard().LoadGuard(force)
    values = iter(loads)
    monkeypatch.setattr(os, "getloadavg", lambda: (next(values), 0.0, 0.0))
    with guard.section("timed"):
        pass
    return guard


def test_quiet_run_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = _run(monkeypatch, [0.4, 1.2], force=False)
    guard.allow_write()  # type: ignore[attr-defined]
    assert guard.rows() == [("load average (1 min) around timed", "0.40 → 1.20")]  # type: ignore[attr-defined]
    assert guard.label.startswith("quiet")  # type: ignore[attr-defined]


def test_loaded_run_is_refused_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = _run(monkeypatch, [0.9, 2.4], force=False)
    with pytest.raises(SystemExit) as refused:
        guard.allow_write()  # type: ignore[attr-defined]
    assert "2.40" in str(refused.value.code) and "\n" not in str(refused.value.code)
    forced = _run(monkeypatch, [2.0, 1.0], force=True)
    forced.allow_write()  # type: ignore[attr-defined]
    assert "LOADED" in forced.label  # type: ignore[attr-defined]
