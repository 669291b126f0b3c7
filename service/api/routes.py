"""HTTP routes; thin: validation by schemas, work by AnswerService, errors by the handlers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
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
from service.api.sites import AskerDep, ReaderDep
from service.models import Answer

router = APIRouter()
# 400: a body that is not JSON; 413: a body over api.max_body_bytes (both before the route runs).
ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ProblemOut} for code in (400, 404, 409, 413, 422, 503)}
SITE_ERRORS: dict[int | str, dict[str, object]] = {code: {"model": ProblemOut} for code in (401, 403, 429)}
SecretHeader = Annotated[str | None, Header(
    alias="X-Conversation-Secret", max_length=200,
    description="The `conversation_secret` of the conversation's first answer; needed to continue it.")]


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
        **SITE_ERRORS,
        200: {"content": {"text/event-stream": {}}, "description": "The answer, or its SSE stream."},
    },
)
async def ask(body: AskRequest, request: Request, service: ServiceDep, _: AskerDep,
              secret: SecretHeader = None) -> Response:
    """Answer a question. With `Accept: text/event-stream` the answer streams sentence by sentence, each verified
    before it is sent: `references` (the references a sentence cites first), `sentence` (the sentence with its
    reference numbers), `delta` (its display text), and finally `done` with the whole answer. A site key
    (`Authorization: Bearer`) is answered only from the origins it lists; 429 past the question limits.

    The answer that opens a conversation carries `conversation_secret`; a follow-up (`conversation_id`) must
    send it in `X-Conversation-Secret`, or gets the 404 of an unknown conversation."""
    filters = body.filters.to_domain() if body.filters else None
    stream = "text/event-stream" in request.headers.get("accept", "")
    # The index generation that answers (a request finishes on the generation it started with).
    generation = {"X-Index-Generation": service.index.generation}
    if not stream:
        answer = await run_in_threadpool(service.ask, body.question, conversation_id=body.conversation_id,
                                         audience=body.audience, filters=filters, conversation_secret=secret)
        record_answer(request, answer)
        return Response(AnswerOut.from_answer(answer).model_dump_json(), media_type="application/json",
                        headers=generation)
    # Bad input raises here, before the stream starts, so it still gets its 4xx.
    items = await run_in_threadpool(service.ask_stream, body.question, conversation_id=body.conversation_id,
                                    audience=body.audience, filters=filters, conversation_secret=secret)

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


@router.get("/v1/answers/{answer_id}", response_model=AnswerOut, tags=["answers"],
            responses={**ERRORS, **SITE_ERRORS})
async def get_answer(answer_id: str, service: ServiceDep, _: ReaderDep) -> AnswerOut:
    """A stored answer, with its current review status."""
    return AnswerOut.from_answer(await run_in_threadpool(service.get, answer_id))
