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
# The fixed subsets the baseline was made with (see docs/evaluation.md, "CI gate").
RUNS = {
    "pubmedqa_dev": ["--limit", "100"],
    "medquad": ["--limit", "300", "--index-limit", "300"],
}
SYSTEMS = "bm25,dense,hybrid,rrf"


def ci_command(name: str, out: Path, cache: Path) -> list[str]:
    """The exact `medcite eval` arguments of one CI run."""
    return ["eval", "--gold", str(DATA / f"{name}.jsonl"), *RUNS[name], "--systems", SYSTEMS,
            "--sample-seed", "13", "--out", str(out), "--cache", str(cache)]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_dev_subset_does_not_regress(name: str, tmp_path: Path) -> None:
    if not (DATA / f"{name}.jsonl").exists():
        pytest.skip(f"shared gold data not found at {DATA} (checkout ../shared/data next to the repo)")
    cache = Path(os.environ.get("MEDCITE_EVAL_CACHE", ROOT / ".medcite" / "eval-cache"))
    update = os.environ.get("MEDCITE_EVAL_UPDATE_BASELINE") == "1"  # regenerate ci.json instead of comparing
    args = ci_command(name, tmp_path / "out", cache)
    if not update:
        args += ["--baseline", str(BASELINE), "--tolerance", TOLERANCE]
    run = subprocess.run([sys.executable, "-m", "medcite.cli", *args], capture_output=True, text=True,
                         timeout=900, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    assert run.returncode == 0, f"regressions versus {BASELINE}:\n{run.stderr[-3000:]}"
    rows = json.loads((tmp_path / "out" / "metrics.json").read_text())
    if update:
        kept = [r for r in json.loads(BASELINE.read_text()) if r["set"] != name] if BASELINE.exists() else []
        BASELINE.write_text(json.dumps(kept + rows, indent=2) + "\n")
    assert {r["system"] for r in rows} == set(SYSTEMS.split(","))
    assert all(r["citation_validity"] == 1.0 for r in rows)
