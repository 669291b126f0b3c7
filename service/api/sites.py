"""Who may ask from a browser: site keys' origins, the dynamic CORS allowlist, and per-address and per-site limits.

A site key answers only the origins it lists, checked on the browser's own `Origin` header (never a body field).
Requests without a key are answered from medcite's own origin, from `api.cors_origins`, or with no `Origin` at
all (servers, curl). CORS allows `api.cors_origins` ∪ the active site keys' origins; a refused request gets no
CORS headers, so a page on another origin cannot even read why.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Send

from medcite.config import ApiSettings
from medcite.errors import AuthenticationError, IndexMissingError, OriginRefusedError, RateLimitedError
from service.api.auth import GuardDep, client_address
from service.api.errors import REFUSED_HEADER
from service.keys import KeyStore, Principal, Role

ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-Conversation-Secret"]
_bearer = HTTPBearer(auto_error=False, description="A site key for the widget: `Authorization: Bearer mck_...`.")


class SiteGate:
    """Origin checks and question limits (one per app, in app.state)."""

    def __init__(self, keys: KeyStore, settings: ApiSettings) -> None:
        self.keys = keys
        self._static = set(settings.cors_origins)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_address: RateLimitItem = parse(settings.ask_limit_per_address)
        self._per_site: RateLimitItem = parse(settings.ask_limit_per_site)

    def origins(self) -> set[str]:
        """The origins CORS allows beyond the settings: every active site key's."""
        return self.keys.site_origins()

    def check_origin(self, origin: str | None, own: str, principal: Principal | None, asking: bool) -> None:
        """Refuse a site key used from an origin it does not list, and a keyless browser on a foreign origin.
        Reading a stored answer without an Origin is public, key or none; asking with a site key needs an origin."""
        if principal is not None and principal.role is Role.SITE:
            if origin is None and not asking:
                return
            if origin is None or origin not in principal.origins:
                where = f"the origin {origin}" if origin else "a request without an Origin header"
                listed = "lists no origins, so it answers no one" if not principal.origins else "does not list it"
                raise OriginRefusedError(f"site key {principal.name!r} is not allowed from {where}: the key {listed}")
            return
        if origin is None or origin == own or "*" in self._static or origin in self._static:
            return
        raise OriginRefusedError(f"the origin {origin} may not use this service without its site key")

    def count_question(self, client: str, principal: Principal | None) -> None:
        """Count one question against its address and, for a site key, its site; 429 past either limit."""
        if not self._limiter.hit(self._per_address, "ask", client):
            raise RateLimitedError("too many questions from this address; try again later",
                                   self._retry_after(self._per_address, "ask", client))
        if principal is not None and principal.role is Role.SITE and not self._limiter.hit(
                self._per_site, "site", principal.key_id):
            raise RateLimitedError(f"too many questions through site key {principal.name!r}; try again later",
                                   self._retry_after(self._per_site, "site", principal.key_id))

    def _retry_after(self, item: RateLimitItem, scope: str, who: str) -> int:
        reset, _ = self._limiter.get_window_stats(item, scope, who)
        return max(1, math.ceil(reset - time.time()))


def get_gate(request: Request) -> SiteGate:
    """The app's SiteGate, or a 503 when the service (and so its key store) is not loaded."""
    gate: SiteGate | None = getattr(request.app.state, "sites", None)
    if gate is None:
        raise IndexMissingError(request.app.state.unavailable)
    return gate


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def caller(asking: bool) -> Callable[..., Principal | None]:
    """A dependency: the key's holder (None without a key), after the origin check and, when asking, the limits."""

    def dependency(request: Request, guard: GuardDep, gate: Annotated[SiteGate, Depends(get_gate)],
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal | None:
        # Sync, so FastAPI runs it (and argon2) in the thread pool.
        client = client_address(request)
        principal = None
        if request.headers.get("authorization") is not None:
            if credentials is None:
                raise AuthenticationError("the Authorization header must be `Bearer <key>`")
            principal = guard.authenticate(client, credentials.credentials)
        gate.check_origin(request.headers.get("origin"), _own_origin(request), principal, asking)
        if asking:
            gate.count_question(client, principal)
        return principal

    return dependency


AskerDep = Annotated[Principal | None, Depends(caller(asking=True))]
ReaderDep = Annotated[Principal | None, Depends(caller(asking=False))]


class SiteCORS(CORSMiddleware):
    """CORS whose allowlist is the settings' origins plus `dynamic()` (site keys' origins, read per request);
    responses marked refused leave without any CORS header."""

    def __init__(self, app: ASGIApp, *, dynamic: Callable[[], set[str]], allow_origins: Sequence[str],
                 allow_methods: Sequence[str], allow_headers: Sequence[str], expose_headers: Sequence[str]) -> None:
        super().__init__(app, allow_origins=allow_origins, allow_methods=allow_methods, allow_headers=allow_headers,
                         expose_headers=expose_headers)
        self._dynamic = dynamic

    def is_allowed_origin(self, origin: str) -> bool:
        return super().is_allowed_origin(origin) or origin in self._dynamic()

    async def send(self, message: Message, send: Send, request_headers: object) -> None:  # type: ignore[override]
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            if REFUSED_HEADER in headers:
                del headers[REFUSED_HEADER]
                await send(message)
                return
        await super().send(message, send, request_headers)  # type: ignore[arg-type]
