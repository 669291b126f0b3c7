"""Maintenance commands of the evaluation harness.

python -m eval support --gold ../shared/data/pubmedqa_dev.jsonl    # calibrate / measure the statement judge
python -m eval tune --gold ../shared/data/medquad.jsonl --limit 1000 --sample-seed 7   # fusion-weight sweep
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the sub-command and run it; results are printed as JSON."""
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    support = sub.add_parser("support", help="support-cosine calibration on a passage set (PubMedQA)")
    support.add_argument("--gold", type=Path, required=True)
    support.add_argument("--seed", type=int, default=13)
    tune = sub.add_parser("tune", help="retrieval-only sweep of fusion weights")
    tune.add_argument("--gold", type=Path, required=True)
    tune.add_argument("--limit", type=int, default=1000)
    tune.add_argument("--sample-seed", type=int, default=7)
    tune.add_argument("--cache", type=Path, default=Path(".medcite/eval-cache"))
    tune.add_argument("--keyword-weights", default="0.1,0.3,0.6,1.0")
    tune.add_argument("--section-weights", default="0,0.1")
    tune.add_argument("--k", type=int, default=20)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from eval.calibrate import calibrate_support, pair_agreement
    from eval.corpus import build_index, questions_for
    from eval.gold import load_gold
    from eval.tune import grid, sweep
    from ingest import SentenceTransformerEmbedder
    from medcite.config import get_settings

    settings = get_settings()
    embedder = SentenceTransformerEmbedder(settings.embedding)
    gold = load_gold(args.gold)
    if args.command == "support":
        result = calibrate_support(gold, embedder, seed=args.seed)
        print(json.dumps({"fitted": repr(result.fitted), "held_out": repr(result.held_out),
                          "pairs_at_fitted": pair_agreement(embedder, threshold=result.fitted.threshold),
                          "pairs_at_current": pair_agreement(embedder)}, indent=2))
        return
    built = build_index(gold, cache_dir=args.cache, settings=settings, embedder=embedder)
    questions = questions_for(gold, built.collection, limit=args.limit, seed=args.sample_seed)
    systems = grid([float(x) for x in args.keyword_weights.split(",")],
                   [float(x) for x in args.section_weights.split(",")])
    for point in sweep(built.settings, questions, systems, embedder=embedder, k=args.k):
        print(json.dumps({"system": point.system.name, "record": point.record, "document": point.document}),
              flush=True)


if __name__ == "__main__":
    main()
