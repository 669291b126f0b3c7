"""Eval fixtures: tiny gold sets in the shared schema, written into the test's temp folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ANSWERS: list[dict[str, Any]] = [
    {"id": "mq-1", "question": "What are the symptoms of Glaucoma ?",
     "answer": "Glaucoma often has no early symptoms. Over time, people slowly lose side vision. "
               "Without treatment, glaucoma can cause blindness.",
     "doc_id": "NEI:glaucoma", "focus": "Glaucoma", "question_type": "symptoms"},
    {"id": "mq-2", "question": "What are the treatments for Glaucoma ?",
     "answer": "Glaucoma is treated with eye drops that lower eye pressure. Laser trabeculoplasty helps fluid "
               "drain from the eye. Surgery creates a new drainage channel when drops and laser fail.",
     "doc_id": "NEI:glaucoma", "focus": "Glaucoma", "question_type": "treatment"},
    {"id": "mq-3", "question": "What causes Gout ?",
     "answer": "Gout is caused by too much uric acid in the blood. Uric acid crystals build up in a joint "
               "and cause sudden pain and swelling.",
     "doc_id": "NIAMS:gout", "focus": "Gout", "question_type": "causes"},
    {"id": "mq-4", "question": "How to prevent Gout ?",
     "answer": "Drinking less alcohol and eating fewer purine-rich foods lowers uric acid. Medicines such as "
               "allopurinol prevent new gout attacks.",
     "doc_id": "NIAMS:gout", "focus": "Gout", "question_type": "prevention"},
    {"id": "mq-5", "question": "What is (are) Psoriasis ?",
     "answer": "Psoriasis is a skin disease that causes red, itchy, scaly patches. It is a chronic immune "
               "condition that comes and goes.",
     "doc_id": "NIAMS:psoriasis", "focus": "Psoriasis", "question_type": "information"},
    {"id": "mq-6", "question": "What is (are) Psoriasis ?",
     "answer": "Psoriasis is a skin disease that causes red, itchy, scaly patches. It is a chronic immune "
               "condition that comes and goes.",
     "doc_id": "NIAMS:psoriasis", "focus": "Psoriasis", "question_type": "information", "duplicate_of": "mq-5"},
    {"id": "mq-7", "question": "Who is at risk for Psoriasis ?",
     "answer": "Psoriasis is a skin disease that causes red, itchy, scaly patches. It is a chronic immune "
               "condition that comes and goes.",
     "doc_id": "NIAMS:psoriasis-2", "focus": "Psoriasis", "question_type": "susceptibility"},
]

PASSAGES: list[dict[str, Any]] = [
    {"id": "pq-1", "question": "Does vitamin D supplementation reduce fractures in older women?",
     "answer": "Vitamin D supplementation did not reduce fractures in older women.",
     "passages": ["Fractures are common in older women with osteoporosis.",
                  "We randomised 2,000 women aged over 70 to vitamin D or placebo for three years.",
                  "Fracture rates were similar in the vitamin D and placebo groups."],
     "labels": ["BACKGROUND", "METHODS", "RESULTS"], "decision": "no"},
    {"id": "pq-2", "question": "Is early mobilisation after hip surgery associated with shorter stay?",
     "answer": "Early mobilisation after hip surgery shortens hospital stay.",
     "passages": ["Length of stay after hip surgery drives hospital costs.",
                  "Patients who walked on the first day after surgery went home two days earlier."],
     "labels": ["BACKGROUND", "RESULTS"], "decision": "yes"},
    {"id": "pq-3", "question": "Does smartphone use before bed worsen sleep quality in adolescents?",
     "answer": "Smartphone use before bed is associated with worse sleep quality in adolescents.",
     "passages": ["Adolescents often use smartphones late in the evening.",
                  "Teenagers with more screen time before bed reported poorer sleep and more daytime fatigue."],
     "labels": ["BACKGROUND", "RESULTS"], "decision": "yes"},
    {"id": "pq-4", "question": "Can a mobile app improve inhaler technique in asthma?",
     "answer": "The mobile app may improve inhaler technique, but larger trials are needed.",
     "passages": ["Poor inhaler technique limits asthma control.",
                  "After app training, inhaler technique scores rose in a small pilot group of 40 adults."],
     "labels": ["BACKGROUND", "RESULTS"], "decision": "maybe"},
    {"id": "pq-5", "question": "Is coffee consumption linked to atrial fibrillation?",
     "answer": "Moderate coffee consumption was not linked to atrial fibrillation.",
     "passages": ["Caffeine is often thought to trigger arrhythmia.",
                  "In 50,000 adults, coffee intake was not associated with incident atrial fibrillation."],
     "labels": ["BACKGROUND", "RESULTS"], "decision": "no"},
    {"id": "pq-6", "question": "Does handwashing education reduce absenteeism in primary schools?",
     "answer": "Handwashing education reduced school absenteeism due to infections.",
     "passages": ["Infections cause many missed school days.",
                  "Schools with handwashing lessons had fewer absences from gastrointestinal illness."],
     "labels": ["BACKGROUND", "RESULTS"], "decision": "yes"},
]


def _answers_record(item: dict[str, Any]) -> dict[str, Any]:
    meta = {"focus": item["focus"], "question_type": item["question_type"], "collection": "NIH"}
    if "duplicate_of" in item:
        meta["duplicate_of"] = item["duplicate_of"]
    return {"id": item["id"], "question": item["question"], "answer": item["answer"], "source": "medquad",
            "url": None, "doc_id": item["doc_id"], "passages": [], "meta": meta}


def _passages_record(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "question": item["question"], "answer": item["answer"], "source": "pubmedqa",
            "url": None, "doc_id": item["id"][3:], "passages": item["passages"],
            "meta": {"final_decision": item["decision"], "context_labels": item["labels"]}}


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write records one per line."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture()
def answers_gold(tmp_path: Path) -> Path:
    """A MedQuAD-like gold file: answers, shared source documents, a duplicate, a shared answer text."""
    return write_jsonl(tmp_path / "tinyqa.jsonl", [_answers_record(i) for i in ANSWERS])


@pytest.fixture()
def passages_gold(tmp_path: Path) -> Path:
    """A PubMedQA-like gold file: abstract passages and yes/no/maybe decisions."""
    return write_jsonl(tmp_path / "tinypq.jsonl", [_passages_record(i) for i in PASSAGES])
