"""API keys: stored hashed, verified on one code path whatever is wrong, revocable; failed attempts rate-limited."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher

from medcite.config import ReviewSettings, Settings
from medcite.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from service import AnswerService
from service.api import create_app
from service.keys import KeyStore, Role, parse_role
from service.tables import open_engine

from .conftest import LiveServer
from .reviewing import reviewing


class CountingHasher(PasswordHasher):
    """The real argon2 hasher, counting its verifications."""

    calls = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.calls += 1
        return super().verify(hash, password)


def test_keys_are_stored_hashed_and_shown_once(tmp_path: Path) -> None:
    database = tmp_path / "keys.db"
    store = KeyStore(open_engine(f"sqlite:///{database}"))
    new = store.create(Role.REVIEWER, "  Dr   X ")
    assert new.key.startswith(f"mck_{new.info.id}_") and len(new.key) > 50
    assert new.info.name == "Dr X" and new.info.role is Role.REVIEWER and new.info.active
    from sqlalchemy import text

    with store._engine.connect() as conn:
        stored = conn.execute(text("SELECT hash FROM api_keys")).scalar_one()
    assert stored.startswith("$argon2id$") and new.key not in stored
    secret = new.key.rsplit("_", 1)[1]
    assert secret.encode() not in database.read_bytes() and new.key.encode() not in database.read_bytes()
    assert store.verify(new.key).name == "Dr X"
    assert [k.name for k in store.list()] == ["Dr X"]
    with pytest.raises(ConflictError, match="revoke it first"):
        store.create(Role.ADMIN, "Dr X")
    with pytest.raises(InvalidInputError, match="roles: reviewer, admin, site"):
        parse_role("owner")
    assert parse_role(" Admin ") is Role.ADMIN


def test_every_failure_takes_the_argon2_path_and_revocation_sticks(tmp_path: Path) -> None:
    hasher = CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)
    store = KeyStore(open_engine(f"sqlite:///{tmp_path / 'keys.db'}"), hasher)
    good = store.create(Role.ADMIN, "ops")
    other = store.create(Role.SITE, "widget")
    wrong_secret = good.key[:-4] + ("AAAA" if not good.key.endswith("AAAA") else "BBBB")
    unknown_id = "mck_0123456789abcdef_" + good.key.rsplit("_", 1)[1]
    for key in (wrong_secret, unknown_id, "not-a-key", other.key.replace(other.info.id, good.info.id)):
        before = hasher.calls
        with pytest.raises(AuthenticationError):
            store.verify(key)
        assert hasher.calls == before + 1, key  # constant-time by code path: one argon2 verify, hit or miss
    assert store.revoke(good.info.id).revoked_at
    before = hasher.calls
    with pytest.raises(AuthenticationError):
        store.verify(good.key)
    assert hasher.calls == before + 1
    with pytest.raises(NotFoundError):
        store.revoke("ops")  # already revoked
    assert store.verify(other.key).role is Role.SITE
    store.revoke("widget")
    assert [k.active for k in store.list()] == [False, False]
    assert store.create(Role.ADMIN, "ops").info.active  # the name is free again


def test_failed_attempts_are_rate_limited_per_address(tmp_path: Path, corpus_settings: Settings,
                                                      answer_service: AnswerService) -> None:
    with reviewing(corpus_settings, answer_service, tmp_path, failures="3/minute") as rv:
        reviewer = {"Authorization": f"Bearer {rv.keys[Role.REVIEWER]}"}
        with httpx.Client(base_url=rv.url, timeout=60) as http:
            assert http.get("/v1/reviews").status_code == 401  # no key: not an attempt
            assert http.get("/v1/reviews", headers={"Authorization": f"Bearer {rv.keys[Role.SITE]}"}
                            ).status_code == 403  # a valid key of another role: not a failure
            for _ in range(3):
                assert http.get("/v1/reviews", headers={"Authorization": "Bearer mck_guess"}).status_code == 401
            res = http.get("/v1/reviews", headers={"Authorization": "Bearer mck_guess"})
            assert res.status_code == 429 and res.json()["type"] == "RateLimitedError"
            assert int(res.headers["retry-after"]) >= 1
            # The address is locked out for the window, even with the right key; reading answers still works.
            assert http.get("/v1/reviews", headers=reviewer).status_code == 429
            answer = rv.ask()
            assert http.get(f"/v1/answers/{answer['id']}").status_code == 200
        # Another app (its own limiter) over the same database is not locked out.
        settings = corpus_settings.model_copy(update={"review": ReviewSettings(feedback_limit="2/minute")})
        with LiveServer(create_app(settings, service=rv.service)) as other, \
                httpx.Client(base_url=other.url, timeout=60) as http:
            assert http.get("/v1/reviews", headers=reviewer).status_code == 200
            codes = [http.post(f"/v1/answers/{answer['id']}/feedback", json={"rating": "helpful"}).status_code
                     for _ in range(3)]
            assert codes == [201, 201, 429]


def test_limits_in_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="not a rate limit"):
        ReviewSettings(auth_failure_limit="often")
