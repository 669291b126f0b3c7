"""HTTP routes; thin: validation by schemas, work by AnswerService, errors by the handlers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sse_starlette.sse import EventSourceResponse

from service.api.deps import ServiceDep
from service.api.schemas import (
    AnswerOut,
    AskRequest,
    HealthOut,
    ProblemOut,
    ReadyOut,
    ReviewIn,
    answer_pieces,
)

router = APIRouter()
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ProblemOut} for code in (404, 422, 503)}


@router.get("/healthz", response_model=HealthOut, tags=["ops"])
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut, tags=["ops"], responses={503: {"model": ReadyOut}})
def readyz(request: Request) -> Response:
    """Ready when an index is loaded and non-empty."""
    service = request.app.state.service
    if service is None or not service.ready():
        detail = request.app.state.unavailable or "the index is empty; run `medcite ingest corpus`"
        body = ReadyOut(ready=False, documents=0, chunks=0, detail=detail)
        return JSONResponse(status_code=503, content=body.model_dump())
    docs, chunks = service.index.store.count()
    return JSONResponse(content=ReadyOut(ready=True, documents=docs, chunks=chunks).model_dump())


@router.post(
    "/v1/answers",
    response_model=AnswerOut,
    tags=["answers"],
    responses={
        **ERRORS,
        200: {"content": {"text/event-stream": {}}, "description": "The answer, or its SSE stream."},
    },
)
async def ask(body: AskRequest, request: Request, service: ServiceDep) -> Response:
    """Answer a question; with `Accept: text/event-stream`, stream references, text pieces, then the answer."""
    filters = body.filters.to_domain() if body.filters else None
    answer = await run_in_threadpool(
        service.ask,
        body.question,
        conversation_id=body.conversation_id,
        audience=body.audience,
        filters=filters,
    )
    out = AnswerOut.from_answer(answer)
    if "text/event-stream" not in request.headers.get("accept", ""):
        return JSONResponse(content=out.model_dump(mode="json"))

    async def events() -> AsyncIterator[dict[str, str]]:
        yield {"event": "references", "data": json.dumps([r.model_dump(mode="json") for r in out.references])}
        for piece in answer_pieces(answer):
            yield {"event": "delta", "data": json.dumps({"text": piece})}
        yield {"event": "done", "data": out.model_dump_json()}

    return EventSourceResponse(events())


@router.get("/v1/answers/{answer_id}", response_model=AnswerOut, tags=["answers"], responses=ERRORS)
async def get_answer(answer_id: str, service: ServiceDep) -> AnswerOut:
    """A stored answer, with its current review status."""
    return AnswerOut.from_answer(await run_in_threadpool(service.get, answer_id))


@router.put("/v1/answers/{answer_id}/review", response_model=AnswerOut, tags=["answers"], responses=ERRORS)
async def review_answer(answer_id: str, body: ReviewIn, service: ServiceDep) -> AnswerOut:
    """Record a reviewer's decision (submitted → under_review → approved)."""
    return AnswerOut.from_answer(await run_in_threadpool(service.review, answer_id, body.status))
