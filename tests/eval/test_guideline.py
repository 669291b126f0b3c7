"""The guideline gold set: its file, fact matching, the new metric rows, and gate calibration by replay."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from eval.aggregate import aggregate
from eval.gate import calibrate_gate, rates, signals_of
from eval.guideline import (
    DEFAULT_GUIDELINE_GOLD,
    facts_found,
    is_guideline_gold,
    load_guideline_questions,
    normalise,
)
from eval.records import QuestionResult
from ingest import parse_front_matter
from medcite.config import AnswerabilitySettings
from medcite.errors import CorpusError
from service import Signals

ROOT = Path(__file__).resolve().parents[2]


def digests() -> dict[str, tuple[dict[str, object], str]]:
    out = {}
    for path in ROOT.glob("corpus/*/*.md"):
        meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
        out[path.stem] = (meta, normalise(body))
    return out


def test_gold_file_sizes_splits_and_coverage() -> None:
    questions = load_guideline_questions(DEFAULT_GUIDELINE_GOLD)
    kinds = Counter(q.kind for q in questions)
    assert kinds["answerable"] >= 250 and kinds["out_of_corpus"] >= 150 and kinds["near_miss"] >= 30
    for kind in kinds:
        splits = Counter(q.split for q in questions if q.kind == kind)
        assert abs(splits["dev"] - splits["test"]) <= 5, f"{kind} halves are unbalanced: {splits}"
    docs = digests()
    covered = Counter(d for q in questions if q.kind == "answerable" for d in q.doc_ids[:1])
    clinician = [d for d, (meta, _) in docs.items() if meta.get("audience", "clinician") == "clinician"]
    thin = sorted(d for d in clinician if covered[d] < 2)
    assert not thin, f"clinician digests with fewer than 2 questions: {thin}"


def test_every_must_have_fact_is_in_an_expected_digest() -> None:
    docs = digests()
    for q in load_guideline_questions(DEFAULT_GUIDELINE_GOLD):
        if q.kind != "answerable":
            continue
        assert all(d in docs for d in q.doc_ids), f"{q.id}: unknown doc ids {q.doc_ids}"
        text = " ".join(docs[d][1] for d in q.doc_ids)
        for fact in q.must_have:
            assert facts_found([fact], text) == 1, f"{q.id}: no phrasing of {fact} in {q.doc_ids}"


def test_fact_matching_normalises_case_space_and_dashes() -> None:
    facts = [["3 months", "three months"], ["10 mg twice daily"]]
    assert facts_found(facts, "Treat for THREE  months.") == 1
    assert facts_found(facts, "apixaban 10 mg twice daily for 7 days, then 3 months") == 2
    assert facts_found([["first-line"]], "first\u2011line") == 1


def test_bad_files_get_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "g.jsonl"
    bad.write_text(json.dumps({"id": "a", "question": "q", "answer": "a", "meta": {"kind": "answerable",
                                                                                    "split": "dev"}}) + "\n")
    assert is_guideline_gold(bad)
    with pytest.raises(CorpusError, match=re.escape("g.jsonl:1: answerable questions need")):
        load_guideline_questions(bad)
    bad.write_text(json.dumps({"id": "a", "question": "q", "answer": "a", "meta": {"kind": "x"}}) + "\n")
    assert not is_guideline_gold(bad)


def result(category: str, *, abstained: bool, gate: bool = True, cosine: float = 0.6, found: int = 0,
           lead: int = 0, hit: float = 0.0, set_name: str = "g-dev") -> QuestionResult:
    r = QuestionResult(system="hybrid", set=set_name, id=f"{category}-{cosine}-{found}-{abstained}",
                       kind="answerable" if category == "answerable" else "out_of_scope", question="q",
                       category=category, abstained=abstained, gate_abstained=abstained and gate)
    r.signals = dataclasses.asdict(Signals(cosine=cosine))
    if category == "answerable":
        r.counts = {"facts": 2, "facts_found": found, "facts_lead": lead}
        r.metrics = {"guideline_hit": hit}
    return r


def test_metric_rows() -> None:
    results = [
        result("answerable", abstained=False, found=2, lead=1, hit=1.0),
        result("answerable", abstained=True, cosine=0.4),
        result("out_of_corpus", abstained=False, cosine=0.55),
        result("out_of_corpus", abstained=True, cosine=0.3),
        result("near_miss", abstained=True, cosine=0.5),
    ]
    row = aggregate(results)[0].values
    assert row["false_abstention"] == 0.5
    assert row["off_topic_answered"] == pytest.approx(1 / 3, abs=1e-4)
    assert row["out_of_corpus_answered"] == 0.5 and row["near_miss_answered"] == 0.0
    assert row["fact_recall"] == 0.5 and row["fact_recall_lead"] == 0.25
    assert row["all_facts"] == 0.5 and row["all_facts_lead"] == 0.0
    assert row["guideline_hit"] == 0.5


def test_calibration_replays_the_gate_on_dev_and_reports_test() -> None:
    # Answerable questions score >= 0.5, out-of-corpus ones <= 0.42: a floor between them separates all.
    dev = [result("answerable", abstained=False, cosine=c) for c in (0.5, 0.6, 0.7)]
    dev += [result("out_of_corpus", abstained=False, cosine=c) for c in (0.35, 0.42)]
    test = [result("answerable", abstained=False, cosine=0.55, set_name="g-test"),
            result("out_of_corpus", abstained=False, cosine=0.4, set_name="g-test")]
    base = AnswerabilitySettings(min_cosine=0.3)
    cal = calibrate_gate([*dev, *test], base)
    assert cal is not None
    assert 0.42 < cal.thresholds["min_cosine"] <= 0.5
    assert (cal.dev.off_topic_answered, cal.dev.false_abstention) == (0.0, 0.0)
    assert cal.current_dev.off_topic_answered == 1.0  # a floor of 0.3 answers both
    assert cal.test is not None and cal.test.error == 0.0
    # A composer abstention stays an abstention whatever the thresholds.
    stuck = result("answerable", abstained=True, gate=False, cosine=0.9)
    pair = [(stuck, signals_of(stuck.signals))]
    assert rates(pair, base).false_abstention == 1.0


def test_report_lists_guideline_failures(tmp_path: Path) -> None:
    from eval.report import write_report

    results = [result("answerable", abstained=False, found=1, lead=0), result("out_of_corpus", abstained=False)]
    results[1].summary = "An answer about something else [1]."
    out = tmp_path / "report.html"
    write_report(out, aggregate(results), results)
    page = out.read_text(encoding="utf-8")
    assert "Answered although not covered (1 shown)" in page and "An answer about something else" in page
    assert "Abstained or facts missing (1 shown)" in page and "facts 1/2, lead 0" in page
    assert "off_topic_answered" in page and "false_abstention" in page
