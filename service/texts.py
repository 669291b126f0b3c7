"""Fixed wording shown with every answer, by audience."""

from __future__ import annotations

from service.models import Audience

PENDING_REVIEW = (
    "Educational purpose only. This answer was composed automatically from guideline digests "
    "and is pending human review."
)
APPROVED = "Reviewed and approved by a medical reviewer."
NOT_COVERED = "The guideline corpus does not cover this question."  # an abstention that gives no reason

DISCLAIMERS: dict[Audience, str] = {
    "clinician": (
        "This information is intended for healthcare professionals. It summarises guideline digests and "
        "does not replace clinical judgement; verify recommendations against the cited guideline and current "
        "practice standards before applying them to a patient."
    ),
    "patient": (
        "This information is general and educational. It is not medical advice and does not replace a "
        "conversation with your doctor, nurse or pharmacist. If you feel very unwell, call emergency services."
    ),
}

LLM_FALLBACK = "The language model could not be used ({why}); this answer was assembled from guideline sentences."
LLM_REMOVED = "{n} generated sentence{s} left out: the cited guideline passages did not support {them}."
