"""Request ids, the request log and request metrics (an ASGI middleware), answer metrics, and `/metrics`."""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from medcite.config import Settings
from medcite.logs import REQUEST_ID
from service.api.deps import current_service
from service.api.metrics import Metrics
from service.models import Answer

log = logging.getLogger("medcite.requests")
router = APIRouter()
# A client's id is echoed back and logged, so only short, plain ones are taken; others are replaced.
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class Observe:
    """Gives each request an id (the client's `X-Request-ID`, or a new one), echoes it, logs and counts the request.

    Pure ASGI rather than BaseHTTPMiddleware, so SSE streams pass through unbuffered and their latency is measured
    to the last byte."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if _CLIENT_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - start
            # The route's template (`/v1/answers/{answer_id}`), never the raw path, keeps the label set small.
            route = getattr(scope.get("route"), "path", None) or "<unmatched>"
            method = scope.get("method", "")
            self.metrics.observe_request(method, route, status, seconds)
            log.info("request", extra={"method": method, "route": route, "status": status,
                                       "duration_ms": round(seconds * 1000, 2)})
            REQUEST_ID.reset(token)


def record_answer(request: Request, answer: Answer) -> None:
    """Count an answer and log it; the question text only when `api.log_questions` is on."""
    settings: Settings = request.app.state.settings
    request.app.state.metrics.observe_answer(answer, llm_configured=settings.llm.provider != "none")
    extra: dict[str, object] = {"answer_id": answer.id, "abstained": answer.abstained, "composer": answer.composer,
                                "timings_ms": answer.timings_ms}
    if settings.api.log_questions:
        extra["question"] = answer.question
    log.info("answered", extra=extra)


@router.get("/metrics", tags=["ops"], response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}})
async def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, answer stages, abstentions, LLM use, the index generation and size."""
    registry: Metrics = request.app.state.metrics
    service = current_service(request)
    if service is not None:
        status = await run_in_threadpool(service.status)
        fingerprint = await run_in_threadpool(lambda: service.index.keyword().fingerprint)
        registry.set_index(fingerprint, status.documents, status.chunks)
    body, content_type = registry.render()
    return Response(content=body, media_type=content_type)
