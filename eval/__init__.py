"""Offline evaluation: gold sets → cached indexes → answers per system → metrics, records and an HTML report."""

from eval.aggregate import LOWER_IS_BETTER, NOT_COMPARED, MetricsRow, aggregate, read_metrics, write_metrics
from eval.baseline import Regression, compare
from eval.calibrate import SupportCalibration, Threshold, abstention_threshold, best_threshold, calibrate_support
from eval.corpus import Collection, EvalIndex, Question, build_collection, build_index, questions_for
from eval.gold import GoldRecord, GoldSet, load_gold, sample
from eval.metrics import (
    RETRIEVAL_METRICS,
    SUPPORT_COSINE,
    CitationScores,
    StatementJudge,
    StatementScores,
    citation_scores,
    decide,
    retrieval_scores,
    rouge_l,
)
from eval.oos import load_out_of_scope, rare_disease_questions
from eval.records import QuestionResult, RecordStore
from eval.report import write_report
from eval.runner import DEFAULT_SYSTEMS, EvalOptions, Runner, System, parse_systems

__all__ = [
    "DEFAULT_SYSTEMS",
    "LOWER_IS_BETTER",
    "NOT_COMPARED",
    "RETRIEVAL_METRICS",
    "SUPPORT_COSINE",
    "CitationScores",
    "Collection",
    "EvalIndex",
    "EvalOptions",
    "GoldRecord",
    "GoldSet",
    "MetricsRow",
    "Question",
    "QuestionResult",
    "RecordStore",
    "Regression",
    "Runner",
    "StatementJudge",
    "StatementScores",
    "SupportCalibration",
    "System",
    "Threshold",
    "abstention_threshold",
    "aggregate",
    "best_threshold",
    "build_collection",
    "build_index",
    "calibrate_support",
    "citation_scores",
    "compare",
    "decide",
    "load_gold",
    "load_out_of_scope",
    "parse_systems",
    "questions_for",
    "rare_disease_questions",
    "read_metrics",
    "retrieval_scores",
    "rouge_l",
    "sample",
    "write_metrics",
    "write_report",
]
