"""Bearer-key authentication, roles, and per-address limits on failed attempts (and on feedback posts)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from medcite.config import ReviewSettings
from medcite.errors import AuthenticationError, IndexMissingError, PermissionDeniedError, RateLimitedError
from service.keys import KeyStore, Principal, Role

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer mck_...`.")


class Guard:
    """The app's key store and rate limiters (one per app, in app.state, never module-global)."""

    def __init__(self, keys: KeyStore, settings: ReviewSettings) -> None:
        self.keys = keys
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._failures: RateLimitItem = parse(settings.auth_failure_limit)
        self._feedback: RateLimitItem = parse(settings.feedback_limit)

    def _retry_after(self, item: RateLimitItem, client: str, scope: str) -> int:
        reset, _ = self._limiter.get_window_stats(item, scope, client)
        return max(1, math.ceil(reset - time.time()))

    def authenticate(self, client: str, key: str | None) -> Principal:
        """The key's holder; 401 for a missing or bad key, 429 once an address has failed too often."""
        if key is None:
            raise AuthenticationError("this route needs an API key: send `Authorization: Bearer <key>`")
        if not self._limiter.test(self._failures, "auth", client):
            raise RateLimitedError("too many failed key attempts from this address; try again later",
                                   self._retry_after(self._failures, client, "auth"))
        try:
            return self.keys.verify(key)
        except AuthenticationError:
            self._limiter.hit(self._failures, "auth", client)
            raise

    def count_feedback(self, client: str) -> None:
        """Count one feedback post from an address; 429 past the limit."""
        if not self._limiter.hit(self._feedback, "feedback", client):
            raise RateLimitedError("too many feedback posts from this address; try again later",
                                   self._retry_after(self._feedback, client, "feedback"))


def get_guard(request: Request) -> Guard:
    """The app's Guard, or a 503 when the service (and so its database) is not loaded."""
    guard: Guard | None = getattr(request.app.state, "guard", None)
    if guard is None:
        raise IndexMissingError(request.app.state.unavailable)
    return guard


GuardDep = Annotated[Guard, Depends(get_guard)]


def client_address(request: Request) -> str:
    """The client's address as the server sees it (behind a proxy, run uvicorn with --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def require(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting keys of these roles: 401 without a valid key, 403 with another role's key."""
    names = " or ".join(r.value for r in roles)

    def dependency(request: Request, guard: GuardDep,
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
        # A sync function: FastAPI runs it in the thread pool, so argon2's deliberate slowness blocks no one.
        header = request.headers.get("authorization")
        if header is not None and credentials is None:
            raise AuthenticationError("the Authorization header must be `Bearer <key>`")
        principal = guard.authenticate(client_address(request), credentials.credentials if credentials else None)
        if principal.role not in roles:
            raise PermissionDeniedError(f"a {principal.role.value} key may not do this; it needs a {names} key")
        return principal

    return dependency


ReviewerDep = Annotated[Principal, Depends(require(Role.REVIEWER))]
StaffDep = Annotated[Principal, Depends(require(Role.REVIEWER, Role.ADMIN))]
AdminDep = Annotated[Principal, Depends(require(Role.ADMIN))]
