"""CI regression gate: `medcite eval` on a small fixed dev subset against eval/baselines/ci.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
DATA = ROOT.parent / "shared" / "data"
BASELINE = ROOT / "eval" / "baselines" / "ci.json"
TOLERANCE = "0.02"
GOLD = ("pubmedqa_dev", "medquad")
SYSTEMS = "bm25,dense,hybrid,rrf"
GUIDELINE = ROOT / "eval" / "data" / "guideline_questions.jsonl"


def ci_command(out: Path, cache: Path) -> list[str]:
    """The exact `medcite eval` arguments of the CI run (see docs/evaluation.md, "CI gate"): each gold set's
    index is a seeded sample of 300 records (their passages / answers), 100 of them are asked."""
    golds = [arg for name in GOLD for arg in ("--gold", str(DATA / f"{name}.jsonl"))]
    return ["eval", *golds, "--limit", "100", "--index-limit", "300", "--sample-seed", "13",
            "--systems", SYSTEMS, "--out", str(out), "--cache", str(cache)]


def guideline_command(out: Path, cache: Path) -> list[str]:
    """The guideline gold set in full (both halves) over the bundled corpus, every system."""
    return ["eval", "--gold", str(GUIDELINE), "--systems", SYSTEMS, "--out", str(out), "--cache", str(cache)]


def merge_baseline(rows: list[dict[str, object]]) -> None:
    """Replace this run's (system, set) rows in ci.json, keeping the other gate's rows."""
    old = json.loads(BASELINE.read_text()) if BASELINE.exists() else []
    mine = {(r["system"], r["set"]) for r in rows}
    BASELINE.write_text(json.dumps([r for r in old if (r["system"], r["set"]) not in mine] + rows, indent=2) + "\n")


def run_gate(args: list[str], tmp_path: Path, update: bool) -> list[dict[str, object]]:
    """Run one gate command; return its metrics rows."""
    # One torch thread: on a shared 2-core runner, two spinning threads per process make single-query
    # encodes ~10x slower; metrics do not depend on it.
    if not update:
        args += ["--baseline", str(BASELINE), "--tolerance", TOLERANCE]
    env = {"MEDCITE_EMBEDDING__THREADS": "1", "OMP_NUM_THREADS": "1", **os.environ,
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "medcite.cli", *args], capture_output=True, text=True,
                         timeout=1800, cwd=ROOT, env=env)  # a bound for a hung run, not a speed target
    assert run.returncode == 0, f"regressions versus {BASELINE}:\n{run.stderr[-3000:]}"
    rows: list[dict[str, object]] = json.loads((tmp_path / "out" / "metrics.json").read_text())
    if update:
        merge_baseline(rows)
    return rows


@pytest.mark.slow
def test_guideline_set_does_not_regress(tmp_path: Path) -> None:
    cache = Path(os.environ.get("MEDCITE_EVAL_CACHE", ROOT / ".medcite" / "eval-cache"))
    update = os.environ.get("MEDCITE_EVAL_UPDATE_BASELINE") == "1"
    rows = run_gate(guideline_command(tmp_path / "out", cache), tmp_path, update)
    sets = {f"{GUIDELINE.stem}-dev", f"{GUIDELINE.stem}-test"}
    assert {(r["system"], r["set"]) for r in rows} == {(s, g) for s in SYSTEMS.split(",") for g in sets}
    assert all(r["citation_validity"] == 1.0 and r["citation_support"] == 1.0 for r in rows)


@pytest.mark.slow
def test_dev_subset_does_not_regress(tmp_path: Path) -> None:
    missing = [name for name in GOLD if not (DATA / f"{name}.jsonl").exists()]
    if missing:
        pytest.skip(f"shared gold data {', '.join(missing)} not found in {DATA} (../shared/data next to the repo)")
    cache = Path(os.environ.get("MEDCITE_EVAL_CACHE", ROOT / ".medcite" / "eval-cache"))
    update = os.environ.get("MEDCITE_EVAL_UPDATE_BASELINE") == "1"  # regenerate ci.json instead of comparing
    rows = run_gate(ci_command(tmp_path / "out", cache), tmp_path, update)
    assert {(r["system"], r["set"]) for r in rows} == {(s, g) for s in SYSTEMS.split(",") for g in GOLD}
    assert all(r["citation_validity"] == 1.0 for r in rows)
