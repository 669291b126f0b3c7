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


def test_eval_with_the_llm_composer_scores_generated_sentences_with_the_verifier(answers_gold: Path,
                                                                                  tmp_path: Path) -> None:
    from tests.llm_servers import Reply, ScriptedLLM

    def answer(body: dict[str, object]) -> Reply:
        prompt = json.dumps(body)
        if "Passages:" not in prompt:
            return Reply(text="ready")
        first = str(body["messages"][-1]["content"]).split("Passages:", 1)[1]  # type: ignore[index]
        sentence = first.split("\n")[2].split(". ")[0].strip().rstrip(".") + "."  # passage [1]'s first sentence
        return Reply(json={"summary": [{"text": sentence, "citations": [1]},
                                       {"text": "It is cured by 900 mg of vitamin C a day.", "citations": [1]}],
                           "key_points": []})

    with ScriptedLLM("openai", responder=answer) as llm:
        run = medcite("eval", "--gold", str(answers_gold), "--systems", "hybrid", "--out", str(tmp_path / "out"),
                      "--cache", str(tmp_path / "cache"), "--composer", "llm",
                      "--llm", f"openai:scripted@{llm.base_url}")
    assert run.returncode == 0, run.stderr
    rows = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert [r["system"] for r in rows] == ["hybrid+llm"]
    records = [json.loads(line) for line in (tmp_path / "out" / "records.jsonl").read_text().splitlines()]
    answered = [r for r in records if not r["abstained"]]
    assert answered and all("vitamin C" not in r["summary"] for r in answered)  # the verifier dropped it
    assert rows[0]["citation_support"] == 1.0 and rows[0]["citation_validity"] == 1.0


def test_composer_llm_without_an_llm_is_one_clear_line(answers_gold: Path, tmp_path: Path) -> None:
    run = medcite("eval", "--gold", str(answers_gold), "--out", str(tmp_path), "--composer", "llm")
    assert run.returncode == 2 and "--composer llm needs --llm" in run.stderr


def test_verifier_agreement_with_the_hand_labels(tmp_path: Path) -> None:
    run = medcite("eval", "--verifier", "--out", str(tmp_path))
    assert run.returncode == 0, run.stderr
    report = json.loads((tmp_path / "verifier.json").read_text())
    # Held-out half, with the thresholds in settings: a floor under today's measured agreement (0.83).
    assert report["current-test"]["pairs"] >= 100 and report["current-test"]["accuracy"] >= 0.78
    assert report["current-test"]["by_kind"]["number"] >= 0.85 and report["current-test"]["by_kind"]["negation"] >= 0.85


def test_tune_and_support_are_eval_subcommands(answers_gold: Path, passages_gold: Path, tmp_path: Path) -> None:
    run = medcite("eval", "tune", "--gold", str(answers_gold), "--limit", "5", "--cache", str(tmp_path / "cache"),
                  "--keyword-weights", "0.3,1", "--section-weights", "0")
    assert run.returncode == 0, run.stderr
    points = [json.loads(line) for line in run.stdout.splitlines()]
    assert [p["system"] for p in points] == ["bm25", "dense", "rrf", "hybrid kw=0.3 sw=0", "hybrid kw=1 sw=0"]
    assert all(0.0 <= p["record"]["ndcg@10"] <= 1.0 for p in points)
    run = medcite("eval", "support", "--gold", str(passages_gold))
    assert run.returncode == 0, run.stderr
    assert {"fitted", "held_out", "pairs_at_fitted", "pairs_at_current"} <= set(json.loads(run.stdout))
    bad = medcite("eval", "tune", "--gold", str(answers_gold), "--keyword-weights", "lots")
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "medcite: error: --keyword-weights and --section-weights take comma-separated numbers"]
