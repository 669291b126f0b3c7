"""FastAPI dependencies: the answer service held by the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from medcite.errors import IndexMissingError
from service.answering import AnswerService


def get_service(request: Request) -> AnswerService:
    """The app's AnswerService, or a 503 naming what to run when no index is loaded."""
    service: AnswerService | None = request.app.state.service
    if service is None:
        raise IndexMissingError(request.app.state.unavailable)
    return service


ServiceDep = Annotated[AnswerService, Depends(get_service)]
