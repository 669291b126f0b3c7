"""The eval package's public names are pinned, and it imports nothing heavy."""

from __future__ import annotations

import subprocess
import sys

import eval as harness

PUBLIC = {
    "DEFAULT_SYSTEMS", "LOWER_IS_BETTER", "NOT_COMPARED", "RETRIEVAL_METRICS", "SUPPORT_COSINE", "CitationScores",
    "Collection", "EvalIndex", "EvalOptions", "GoldRecord", "GoldSet", "MetricsRow", "Question", "QuestionResult",
    "RecordStore", "Regression", "Runner", "StatementJudge", "StatementScores", "SupportCalibration", "System",
    "Threshold", "abstention_threshold", "aggregate", "best_threshold", "build_collection", "build_index",
    "calibrate_support", "citation_scores", "compare", "decide", "load_gold", "load_out_of_scope", "parse_systems",
    "questions_for", "rare_disease_questions", "read_metrics", "retrieval_scores", "rouge_l", "sample",
    "write_metrics", "write_report",
}


def test_public_names_are_pinned() -> None:
    assert set(harness.__all__) == PUBLIC
    assert all(hasattr(harness, name) for name in PUBLIC)


def test_import_is_light() -> None:
    code = ("import sys, eval, medcite.cli.eval_cmd; "
            "print(sorted(m for m in ('torch', 'ranx', 'matplotlib', 'rouge_score', 'sentence_transformers') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
