"""Review routes: state moves, edits, the queue, audit trails and feedback; thin, keys checked by dependencies."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from medcite.errors import InvalidInputError
from service.api.auth import AdminDep, GuardDep, ReviewerDep, StaffDep, client_address
from service.api.deps import ServiceDep
from service.api.review_schemas import (
    AuditEntryOut,
    FeedbackIn,
    FeedbackOut,
    QueueItemOut,
    ReviewOut,
    TextEditIn,
)
from service.api.schemas import AnswerOut, ProblemOut, ReviewIn
from service.models import Audience, ReviewStatus
from service.review import QueueFilter, Rating

router = APIRouter(tags=["review"])
ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ProblemOut} for code in (400, 401, 403, 404, 409, 413, 422, 429, 503)
}


@router.put("/v1/answers/{answer_id}/review", response_model=AnswerOut, responses=ERRORS)
async def review_answer(answer_id: str, body: ReviewIn, who: ReviewerDep, service: ServiceDep) -> AnswerOut:
    """Move an answer through review (reviewer key): submitted → under_review → approved or changes_requested;
    approved → retracted. Other moves get 409 naming the allowed ones."""
    answer = await run_in_threadpool(service.review, answer_id, body.status, actor=who.name, note=body.note)
    return AnswerOut.from_answer(answer)


@router.put("/v1/answers/{answer_id}/text", response_model=AnswerOut, responses=ERRORS)
async def edit_text(answer_id: str, body: TextEditIn, who: ReviewerDep, service: ServiceDep) -> AnswerOut:
    """Replace sentences' text (reviewer key). Each edited sentence must stay supported by the passages it
    cites (422 naming the sentence); the text before the edit stays in the answer's history."""
    edits = [s.to_domain() for s in body.sentences]
    await run_in_threadpool(service.workflow.edit, answer_id, edits, actor=who.name, note=body.note)
    return AnswerOut.from_answer(await run_in_threadpool(service.get, answer_id))


@router.get("/v1/answers/{answer_id}/audit", response_model=list[AuditEntryOut], responses=ERRORS)
async def answer_audit(answer_id: str, who: StaffDep, service: ServiceDep) -> list[AuditEntryOut]:
    """An answer's review trail, oldest first (reviewer or admin key)."""
    entries = await run_in_threadpool(service.workflow.store.audit, answer_id)
    return [AuditEntryOut.from_entry(e) for e in entries]


@router.post("/v1/answers/{answer_id}/feedback", response_model=FeedbackOut, status_code=201, responses=ERRORS)
async def post_feedback(answer_id: str, body: FeedbackIn, request: Request, guard: GuardDep,
                        service: ServiceDep) -> FeedbackOut:
    """Rate an answer: helpful, not_helpful or unsafe, with an optional comment (no key needed). Unsafe ratings
    flag the answer in the review queue and send an approved answer back to under_review. Posts are limited per
    client address (429)."""
    guard.count_feedback(client_address(request))
    limit = service.settings.review.max_comment_chars
    if len(body.comment) > limit:
        raise InvalidInputError(f"comment is {len(body.comment)} characters; the limit is {limit}")
    stored = await run_in_threadpool(service.workflow.store.add_feedback, answer_id, body.rating,
                                     body.comment.strip())
    return FeedbackOut.from_feedback(stored)


@router.get("/v1/reviews", response_model=list[QueueItemOut], responses=ERRORS)
async def review_queue(
    who: StaffDep,
    service: ServiceDep,
    state: ReviewStatus | None = None,
    topic: str = Query("", max_length=200, description="Substring of the answer's topic."),
    guideline: str = Query("", max_length=200, description="A cited document id."),
    audience: Audience | None = None,
    unsafe: bool = Query(False, description="Only answers a reader rated unsafe."),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0),
) -> list[QueueItemOut]:
    """Answers to review, oldest first (reviewer or admin key); `flagged_unsafe` marks unsafe ratings."""
    await run_in_threadpool(service.workflow.sweep)  # approvals of re-ingested guidelines fall back first
    flt = QueueFilter(state=state, topic=topic, guideline=guideline, audience=audience or "", unsafe_only=unsafe,
                      limit=limit, offset=offset)
    items = await run_in_threadpool(service.workflow.store.queue, flt)
    return [QueueItemOut.from_item(i) for i in items]


@router.get("/v1/reviews/{answer_id}", response_model=ReviewOut, responses=ERRORS)
async def review_view(answer_id: str, who: StaffDep, service: ServiceDep) -> ReviewOut:
    """One answer for review: each sentence beside the passages it cites, the allowed moves, trail, edits and
    feedback (reviewer or admin key)."""
    view = await run_in_threadpool(service.workflow.view, answer_id)
    feedback = await run_in_threadpool(service.workflow.store.feedback, answer_id)
    return ReviewOut.from_view(view, feedback)


@router.get("/v1/feedback", response_model=list[FeedbackOut], responses=ERRORS)
async def list_feedback(
    who: StaffDep,
    service: ServiceDep,
    answer_id: str = Query("", max_length=64),
    rating: Rating | None = None,
    limit: int = Query(1000, ge=1, le=10_000),
) -> list[FeedbackOut]:
    """Readers' ratings, newest first (reviewer or admin key)."""
    stored = await run_in_threadpool(service.workflow.store.feedback, answer_id, rating, limit)
    return [FeedbackOut.from_feedback(f) for f in stored]


@router.get("/v1/audit", responses={**ERRORS, 200: {"content": {"application/x-ndjson": {}},
                                                     "description": "One audit entry per line, oldest first."}})
async def export_audit(who: AdminDep, service: ServiceDep) -> StreamingResponse:
    """The whole audit trail as JSON Lines (admin key)."""

    def lines() -> Iterator[str]:
        for entry in service.workflow.store.audit_all():
            yield json.dumps(AuditEntryOut.from_entry(entry).model_dump(mode="json"), ensure_ascii=False) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")
