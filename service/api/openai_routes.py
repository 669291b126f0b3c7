"""An OpenAI-compatible face: GET /v1/models and POST /v1/chat/completions, streaming and not.

The OpenAI SDK, LangChain's ChatOpenAI and chat front ends work unchanged; the answer is the same verified,
cited answer as POST /v1/answers, rendered as Markdown with its citations in three fields.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sse_starlette.sse import EventSourceResponse

from service.api.deps import ServiceDep
from service.api.observe import record_answer
from service.api.openai_schemas import (
    MODEL_ID,
    ChatMetadata,
    ChatRequest,
    OpenAIErrorOut,
    answer_markdown,
    citation_fields,
    sentence_markdown,
    tail_markdown,
    url_annotations,
)
from service.models import Answer

router = APIRouter(tags=["openai"])


@router.get("/v1/models")
def models() -> dict[str, Any]:
    """The one model medcite serves."""
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "medcite"}]}


def _ask_args(body: ChatRequest, secret: str | None) -> dict[str, Any]:
    meta = body.metadata or ChatMetadata()
    args: dict[str, Any] = {
        "audience": meta.audience,
        "filters": meta.filters.to_domain() if meta.filters else None,
        "earlier": body.earlier(),
    }
    if body.medcite_conversation_id:
        args["conversation_id"] = body.medcite_conversation_id
        args["conversation_secret"] = secret
    elif body.user:
        # One stored conversation per end user, opened on their first question. `user` is the integrating
        # server's own name for its user, so it is also what owns the conversation: its id alone opens nothing.
        digest = hashlib.sha256(body.user.encode("utf-8", "surrogatepass")).hexdigest()
        args["conversation_id"] = "user-" + digest[:32]
        args["conversation_secret"] = hashlib.sha256(f"medcite-user-secret:{digest}".encode()).hexdigest()
        args["create_conversation"] = True
    return args


def _completion(answer: Answer, content: str, created: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{answer.id}",
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                     "message": {"role": "assistant", "content": content, "refusal": None,
                                 "annotations": url_annotations(content, answer)}}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **citation_fields(answer),
    }


def _chunk(chunk_id: str, created: int, delta: dict[str, Any], finish: str | None = None,
           **extra: Any) -> str:
    return json.dumps({"id": chunk_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                       "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                       **extra})


# Invalid bodies get 400 here (OpenAI's code), not 422; 413 is a body over api.max_body_bytes.
CHAT_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": OpenAIErrorOut} for code in (400, 401, 403, 404, 409, 413, 429, 503)}


@router.post("/v1/chat/completions", responses={**CHAT_ERRORS, 200: {"content": {"text/event-stream": {}}}})
async def chat_completions(
    body: ChatRequest, request: Request, service: ServiceDep,
    secret: Annotated[str | None, Header(alias="X-Conversation-Secret", max_length=200)] = None,
) -> Response:
    """Answer the last user message; `stream: true` sends verified sentences as they are ready, and the final
    chunk before `[DONE]` carries `citations`, `references` and the content's `annotations`.
    `medcite_conversation_id` continues a stored conversation with its secret in `X-Conversation-Secret`."""
    args = _ask_args(body, secret)
    created = int(time.time())
    if not body.stream:
        answer = await run_in_threadpool(service.ask, body.question(), **args)
        record_answer(request, answer)
        return JSONResponse(content=_completion(answer, answer_markdown(answer), created))
    items = await run_in_threadpool(service.ask_stream, body.question(), **args)

    async def events() -> AsyncIterator[str]:
        chunk_id = f"chatcmpl-{created}"
        content = ""
        headings: set[str] = set()
        yield _chunk(chunk_id, created, {"role": "assistant", "content": ""})
        async for item in iterate_in_threadpool(items):
            if isinstance(item, Answer):
                record_answer(request, item)
                tail = tail_markdown(item)
                if not content:
                    tail = tail.lstrip()
                content += tail
                yield _chunk(chunk_id, created, {"content": tail})
                yield _chunk(chunk_id, created, {"annotations": url_annotations(content, item)}, "stop",
                             **citation_fields(item))
            else:
                piece = sentence_markdown(item, headings)
                if not content:
                    piece = piece.lstrip()
                content += piece
                yield _chunk(chunk_id, created, {"content": piece})
        yield "[DONE]"

    return EventSourceResponse(events(), sep="\n",
                               shutdown_grace_period=request.app.state.settings.api.shutdown_grace_s)
