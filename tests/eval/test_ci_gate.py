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


def ci_command(out: Path, cache: Path) -> list[str]:
    """The exact `medcite eval` arguments of the CI run (see docs/evaluation.md, "CI gate"): each gold set's
    index is a seeded sample of 300 records (their passages / answers), 100 of them are asked."""
    golds = [arg for name in GOLD for arg in ("--gold", str(DATA / f"{name}.jsonl"))]
    return ["eval", *golds, "--limit", "100", "--index-limit", "300", "--sample-seed", "13",
            "--systems", SYSTEMS, "--out", str(out), "--cache", str(cache)]


@pytest.mark.slow
def test_dev_subset_does_not_regress(tmp_path: Path) -> None:
    missing = [name for name in GOLD if not (DATA / f"{name}.jsonl").exists()]
    if missing:
        pytest.skip(f"shared gold data {', '.join(missing)} not found in {DATA} (../shared/data next to the repo)")
    cache = Path(os.environ.get("MEDCITE_EVAL_CACHE", ROOT / ".medcite" / "eval-cache"))
    update = os.environ.get("MEDCITE_EVAL_UPDATE_BASELINE") == "1"  # regenerate ci.json instead of comparing
    args = ci_command(tmp_path / "out", cache)
    if not update:
        args += ["--baseline", str(BASELINE), "--tolerance", TOLERANCE]
    # One torch thread: on a shared 2-core runner, two spinning threads per process make single-query
    # encodes ~10x slower; metrics do not depend on it.
    env = {"MEDCITE_EMBEDDING__THREADS": "1", "OMP_NUM_THREADS": "1", **os.environ,
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "-m", "medcite.cli", *args], capture_output=True, text=True,
                         timeout=900, cwd=ROOT, env=env)
    assert run.returncode == 0, f"regressions versus {BASELINE}:\n{run.stderr[-3000:]}"
    rows = json.loads((tmp_path / "out" / "metrics.json").read_text())
    if update:
        BASELINE.write_text(json.dumps(rows, indent=2) + "\n")
    assert {(r["system"], r["set"]) for r in rows} == {(s, g) for s in SYSTEMS.split(",") for g in GOLD}
    assert all(r["citation_validity"] == 1.0 for r in rows)
