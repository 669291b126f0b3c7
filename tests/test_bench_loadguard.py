"""bench/loadguard.py: a loaded run is refused (one line, non-zero exit) unless forced, then marked loaded."""

from __future__ import annotations

import importlib.util
import os
import time
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


def _run(monkeypatch: pytest.MonkeyPatch, loads: list[float], force: bool, settle_s: float = 0.0) -> object:
    guard = _loadguard().LoadGuard(force, settle_s=settle_s)
    values = iter(loads)
    monkeypatch.setattr(os, "getloadavg", lambda: (next(values), 0.0, 0.0))
    monkeypatch.setattr(time, "sleep", lambda _s: None)
    with guard.section("timed"):
        pass
    return guard


def test_quiet_run_is_written_though_its_own_work_raised_the_load(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = _run(monkeypatch, [0.4, 2.1], force=False)
    guard.allow_write()  # type: ignore[attr-defined]
    assert guard.rows() == [("load average (1 min) around timed", "0.40 → 2.10")]  # type: ignore[attr-defined]
    assert guard.label.startswith("quiet")  # type: ignore[attr-defined]


def test_loaded_run_is_refused_unless_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = _run(monkeypatch, [2.4, 1.0], force=False)
    with pytest.raises(SystemExit) as refused:
        guard.allow_write()  # type: ignore[attr-defined]
    assert "2.40" in str(refused.value.code) and "\n" not in str(refused.value.code)
    forced = _run(monkeypatch, [2.0, 1.0], force=True)
    forced.allow_write()  # type: ignore[attr-defined]
    assert "LOADED" in forced.label  # type: ignore[attr-defined]


def test_a_section_waits_for_the_previous_sections_load_to_decay(monkeypatch: pytest.MonkeyPatch) -> None:
    guard = _run(monkeypatch, [2.5, 1.9, 1.2, 1.8], force=False, settle_s=600.0)
    guard.allow_write()  # type: ignore[attr-defined]
    assert guard.rows() == [("load average (1 min) around timed", "1.20 → 1.80")]  # type: ignore[attr-defined]
