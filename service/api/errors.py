"""One place where medcite errors become HTTP problems."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from medcite.errors import (
    IndexStoreError,
    InvalidInputError,
    MedciteError,
    NotFoundError,
    RetrievalError,
)

_STATUS: list[tuple[type[MedciteError], int]] = [
    (InvalidInputError, 422),
    (NotFoundError, 404),
    (RetrievalError, 400),
    (IndexStoreError, 503),
]


def _problem(status: int, detail: str, kind: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": detail, "type": kind})


def install(app: FastAPI) -> None:
    """Register the exception handlers."""

    @app.exception_handler(MedciteError)
    async def medcite_error(_: Request, exc: MedciteError) -> JSONResponse:
        status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 500)
        return _problem(status, str(exc), type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg")))
        return _problem(422, "; ".join(parts) or "invalid request", "ValidationError")
