"""One place where medcite errors become HTTP problems."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from medcite.errors import (
    AuthenticationError,
    ConflictError,
    IndexStoreError,
    InvalidInputError,
    MedciteError,
    NotFoundError,
    OriginRefusedError,
    PermissionDeniedError,
    RateLimitedError,
    RetrievalError,
    VectorStoreUnavailableError,
)
from service.api.openai_schemas import openai_error

REFUSED_HEADER = "x-medcite-origin-refused"  # tells the CORS middleware to send no CORS headers; never sent out

_STATUS: list[tuple[type[MedciteError], int]] = [
    (InvalidInputError, 422),
    (NotFoundError, 404),
    (RetrievalError, 400),
    (IndexStoreError, 503),
    (ConflictError, 409),
    (AuthenticationError, 401),
    (PermissionDeniedError, 403),
    (RateLimitedError, 429),
]


def _headers(exc: MedciteError) -> dict[str, str]:
    """A 401 says how to authenticate; a 429 or an unreachable Chroma server's 503 says when to come back."""
    if isinstance(exc, AuthenticationError):
        return {"WWW-Authenticate": 'Bearer realm="medcite"'}
    if isinstance(exc, RateLimitedError | VectorStoreUnavailableError):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, OriginRefusedError):
        return {REFUSED_HEADER: "1"}
    return {}


def _problem(status: int, detail: str, kind: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "type": kind}, headers=headers)


def _openai(request: Request) -> bool:
    """Requests to the OpenAI-compatible routes get OpenAI-shaped errors."""
    return request.url.path.startswith(("/v1/chat/", "/v1/models"))


def install(app: FastAPI) -> None:
    """Register the exception handlers."""

    @app.exception_handler(MedciteError)
    async def medcite_error(request: Request, exc: MedciteError) -> JSONResponse:
        status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
        if _openai(request):
            status = 400 if status == 422 else status
            kind = "invalid_request_error" if status < 500 else "server_error"
            body = openai_error(status, str(exc), kind, code=type(exc).__name__)
            return JSONResponse(status_code=status, content=body, headers=_headers(exc))
        return _problem(status, str(exc), type(exc).__name__, _headers(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's and FastAPI's own errors (404 for unknown paths, 400 for a body that is not UTF-8, 405, 413)
        # get the documented shape too.
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        headers = dict(exc.headers or {})
        if _openai(request):
            body = openai_error(exc.status_code, detail, "invalid_request_error" if exc.status_code < 500
                                else "server_error")
            return JSONResponse(status_code=exc.status_code, content=body, headers=headers)
        return _problem(exc.status_code, detail, "HTTPError", headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
        detail = "; ".join(parts) or "invalid request"
        if _openai(request):
            param = ".".join(str(p) for p in exc.errors()[0].get("loc", ()) if p != "body") if exc.errors() else None
            return JSONResponse(status_code=400, content=openai_error(400, detail, param=param or None))
        return _problem(422, detail, "ValidationError")
