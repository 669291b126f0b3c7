"""Questions of the load test (bench/locustfile.py, bench/load.py): clinician, patient, out-of-corpus, follow-ups."""

from __future__ import annotations

CLINICIAN = [
    "What is the first-line drug treatment for type 2 diabetes in adults?",
    "When should anticoagulation be started in atrial fibrillation?",
    "Which statin intensity is recommended after an acute coronary syndrome?",
    "How should a moderate asthma exacerbation be managed in adults?",
    "What is the starting dose of levothyroxine for primary hypothyroidism?",
    "When are antibiotics indicated for acute otitis media in children?",
    "How is bronchiolitis managed in infants?",
    "What are the red flags in a feverish child under five?",
]
PATIENT = [
    "I have a cough that won't go away, do I need antibiotics?",
    "My back hurts after lifting boxes, what can I do at home?",
    "Should I get tested for prostate cancer?",
    "What does my asthma inhaler plan mean?",
    "How can I lower my blood sugar with diabetes?",
    "Is it safe to take painkillers for my lower back pain?",
]
OUT_OF_CORPUS = [
    "What is the best way to fix a leaking roof?",
    "How long does recovery from total knee replacement take?",
    "Which laptop should I buy for programming?",
]
FOLLOW_UPS = [
    "What about in pregnancy?",
    "And for children?",
    "What if that does not work?",
    "Are there side effects I should watch for?",
]


def first_questions() -> list[str]:
    """Every question that can open a conversation."""
    return [*CLINICIAN, *PATIENT, *OUT_OF_CORPUS]
