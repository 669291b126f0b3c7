"""FastAPI dependencies: the answer service held by the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from medcite.errors import IndexMissingError
from service.answering import AnswerService
from service.live import LiveService


def current_service(request: Request) -> AnswerService | None:
    """The AnswerService of the index generation published now (None when no index is loaded)."""
    live: LiveService | None = getattr(request.app.state, "live", None)
    if live is None:
        return None
    service = request.app.state.service = live.current()
    return service


def get_service(request: Request) -> AnswerService:
    """The app's AnswerService, or a 503 naming what to run when no index is loaded."""
    service = current_service(request)
    if service is None:
        raise IndexMissingError(request.app.state.unavailable)
    return service


ServiceDep = Annotated[AnswerService, Depends(get_service)]
