"""`medcite eval` as a user runs it: a subprocess writing metrics, records and report, and a baseline gate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def medcite(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in a subprocess."""
    return subprocess.run([sys.executable, "-m", "medcite.cli", *args], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})


def test_eval_end_to_end_with_baseline_gate(answers_gold: Path, tmp_path: Path) -> None:
    out, cache, oos = tmp_path / "out", tmp_path / "cache", tmp_path / "oos.jsonl"
    oos.write_text('{"id": "oos-1", "question": "How do I replace a bicycle tyre?"}\n'
                   '{"id": "oos-2", "question": "What is the capital city of Australia?"}\n')
    # A baseline no system can reach on ndcg@10 and latency: the run must fail naming ndcg@10 only
    # (latency is machine-dependent and never compared; the other set's row is not evaluated here).
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps([
        {"system": s, "set": "tinyqa", "questions": 6, "out_of_scope": 2, "ndcg@10": 2.0,
         "abstain_answerable": 0.0, "latency_p50_ms": 0.0} for s in ("bm25", "hybrid")]
        + [{"system": "hybrid", "set": "absent-set", "ndcg@10": 1.0}]))
    run = medcite("eval", "--gold", str(answers_gold), "--systems", "bm25,hybrid", "--out", str(out),
                  "--cache", str(cache), "--out-of-scope", str(oos), "--calibrate",
                  "--baseline", str(baseline), "--tolerance", "0.02")
    assert run.returncode == 1, run.stderr
    assert "bm25/tinyqa ndcg@10" in run.stderr and "hybrid/tinyqa ndcg@10" in run.stderr
    assert "latency" not in run.stderr and "absent-set" not in run.stderr

    rows = json.loads((out / "metrics.json").read_text())
    assert {(r["system"], r["set"]) for r in rows} == {("bm25", "tinyqa"), ("hybrid", "tinyqa")}
    assert all(r["questions"] == 6 and r["out_of_scope"] == 2 for r in rows)
    assert all(r["citation_validity"] == 1.0 and "doc_ndcg@10" in r for r in rows)
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 2 * 8 and {r["kind"] for r in records} == {"answerable", "out_of_scope"}
    assert all({"system", "set", "id", "metrics", "summary", "references"} <= r.keys() for r in records)
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 3 and "Worst 20 questions" in html
    assert "abstention threshold" in run.stdout and (out / "calibration.json").exists()
