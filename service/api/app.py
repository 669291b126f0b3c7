"""The FastAPI application factory; the index and model load in the lifespan, never at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from fastapi.staticfiles import StaticFiles

from medcite.config import Settings, get_settings
from medcite.errors import VectorStoreUnavailableError
from service.answering import AnswerService
from service.api import errors
from service.api.body_limit import BodyLimit
from service.api.metrics import Metrics
from service.api.observe import Observe
from service.api.observe import router as observe_router
from service.api.openai_routes import router as openai_router
from service.api.pages import router as pages_router
from service.api.review_routes import router as review_router
from service.api.routes import router
from service.api.sites import ALLOWED_HEADERS, SiteCORS, SiteGate
from service.api.startup import Starter

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"


def create_app(settings: Settings | None = None, *, service: AnswerService | None = None) -> FastAPI:
    """Build the app; pass `service` to reuse an already opened one (tests, benchmarks)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        starter = Starter(app, settings, service, retry_s=VectorStoreUnavailableError.retry_after)
        await run_in_threadpool(starter.start)
        yield
        starter.stop()
        if service is None and app.state.service is not None:
            app.state.service.close()  # the generation served last; earlier ones were left to the collector

    app = FastAPI(
        title="medcite",
        version="0.1.0",
        lifespan=lifespan,
        description="Guideline-cited clinical answers. Educational use; answers are pending human review.",
    )
    app.state.settings = settings
    app.state.sites = None

    def site_origins() -> set[str]:
        sites: SiteGate | None = app.state.sites
        return sites.origins() if sites is not None else set()

    app.add_middleware(
        SiteCORS,
        dynamic=site_origins,
        allow_origins=settings.api.cors_origins,
        allow_methods=["GET", "POST"],  # review moves and edits (PUT) are never allowed cross-origin
        allow_headers=ALLOWED_HEADERS,
        expose_headers=["Retry-After"],  # the widget tells readers when to come back
    )
    app.add_middleware(BodyLimit, max_bytes=settings.api.max_body_bytes)
    app.state.metrics = Metrics()
    app.add_middleware(Observe, metrics=app.state.metrics)  # added last: outermost, so it sees every response
    errors.install(app)
    app.include_router(router)
    app.include_router(observe_router)
    app.include_router(review_router)
    app.include_router(openai_router)
    app.include_router(pages_router)
    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def create_app_from_env() -> FastAPI:
    """The app with settings from the environment: the factory each uvicorn worker calls (`medcite serve --workers`)."""
    return create_app(get_settings())
