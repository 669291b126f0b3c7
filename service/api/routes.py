"""HTTP routes; thin: validation by schemas, work by AnswerService, errors by the handlers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sse_starlette.sse import EventSourceResponse

from service.api.deps import ServiceDep, current_service
from service.api.observe import record_answer
from service.api.schemas import (
    AnswerOut,
    AskRequest,
    HealthOut,
    LLMOut,
    ProblemOut,
    ReadyOut,
    SentenceEventOut,
    sentence_piece,
)
from service.models import Answer

router = APIRouter()
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ProblemOut} for code in (404, 422, 503)}


@router.get("/healthz", response_model=HealthOut, tags=["ops"])
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut, tags=["ops"], responses={503: {"model": ReadyOut}})
async def readyz(request: Request) -> Response:
    """Ready when an index is loaded and non-empty."""
    service = current_service(request)
    if service is None:
        body = ReadyOut(ready=False, documents=0, chunks=0, detail=request.app.state.unavailable)
        return JSONResponse(status_code=503, content=body.model_dump())
    status = await run_in_threadpool(service.status)
    llm = status.llm
    body = ReadyOut(ready=status.ready, documents=status.documents, chunks=status.chunks, composer=llm.composer,
                    llm=LLMOut(provider=llm.provider, model=llm.model, ok=llm.ok, detail=llm.detail)
                    if llm.provider != "none" else None,
                    detail="" if status.ready else "the index is empty; run `medcite ingest corpus`")
    return JSONResponse(status_code=200 if status.ready else 503, content=body.model_dump())


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
    """Answer a question. With `Accept: text/event-stream` the answer streams sentence by sentence, each verified
    before it is sent: `references` (the references a sentence cites first), `sentence` (the sentence with its
    reference numbers), `delta` (its display text), and finally `done` with the whole answer."""
    filters = body.filters.to_domain() if body.filters else None
    stream = "text/event-stream" in request.headers.get("accept", "")
    # The index generation that answers (a request finishes on the generation it started with).
    generation = {"X-Index-Generation": service.index.generation}
    if not stream:
        answer = await run_in_threadpool(service.ask, body.question, conversation_id=body.conversation_id,
                                         audience=body.audience, filters=filters)
        record_answer(request, answer)
        return JSONResponse(content=AnswerOut.from_answer(answer).model_dump(mode="json"), headers=generation)
    # Bad input raises here, before the stream starts, so it still gets its 4xx.
    items = await run_in_threadpool(service.ask_stream, body.question, conversation_id=body.conversation_id,
                                    audience=body.audience, filters=filters)

    async def events() -> AsyncIterator[dict[str, str]]:
        headings: set[str] = set()
        async for item in iterate_in_threadpool(items):
            if isinstance(item, Answer):
                record_answer(request, item)
                yield {"event": "done", "data": AnswerOut.from_answer(item).model_dump_json()}
                continue
            event = SentenceEventOut.from_event(item)
            if event.references:
                yield {"event": "references", "data": json.dumps([r.model_dump(mode="json") for r in event.references])}
            yield {"event": "sentence", "data": event.model_dump_json()}
            yield {"event": "delta", "data": json.dumps({"text": sentence_piece(item, headings)})}

    # On SIGTERM a stream gets the grace period to finish before it is cut.
    return EventSourceResponse(events(), headers=generation,
                               shutdown_grace_period=request.app.state.settings.api.shutdown_grace_s)


@router.get("/v1/answers/{answer_id}", response_model=AnswerOut, tags=["answers"], responses=ERRORS)
async def get_answer(answer_id: str, service: ServiceDep) -> AnswerOut:
    """A stored answer, with its current review status."""
    return AnswerOut.from_answer(await run_in_threadpool(service.get, answer_id))
