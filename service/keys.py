"""API keys: roles, creation (the key is shown once), argon2-hashed storage, verification and revocation.

A key reads `mck_<id>_<secret>`: the id finds the stored row, argon2 verifies the whole key against the row's
hash. Unknown ids, revoked keys and malformed keys are verified against a dummy hash, so every failure takes the
same path and about the same time as a wrong secret.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from medcite.errors import AuthenticationError, ConflictError, InvalidInputError, NotFoundError
from service.tables import KeyRow, now_iso

PREFIX = "mck"
_SHAPE = re.compile(rf"^{PREFIX}_([0-9a-f]{{16}})_([A-Za-z0-9_-]{{20,100}})$")


class Role(StrEnum):
    """What a key may do."""

    REVIEWER = "reviewer"  # claim, approve, request changes, retract, edit answers
    ADMIN = "admin"  # export the audit log, list feedback
    SITE = "site"  # the widget's key: nothing beyond what anonymous readers may do


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified key belongs to."""

    key_id: str
    name: str
    role: Role
    origins: tuple[str, ...] = ()  # site keys: the browser origins they answer; none answers no one


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A stored key without its secret."""

    id: str
    name: str
    role: Role
    created_at: str
    revoked_at: str = ""
    origins: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return not self.revoked_at


@dataclass(frozen=True, slots=True)
class NewKey:
    """A created key: the only time the whole key exists outside its holder."""

    info: KeyInfo
    key: str


def _origins(row: KeyRow) -> tuple[str, ...]:
    return tuple(json.loads(row.origins or "[]"))


def _info(row: KeyRow) -> KeyInfo:
    return KeyInfo(row.id, row.name, Role(row.role), row.created_at, row.revoked_at or "", _origins(row))


def parse_origin(value: str) -> str:
    """A browser origin (`https://host[:port]`, as the `Origin` header spells it), or InvalidInputError."""
    text = value.strip().rstrip("/")
    try:
        parts = urlsplit(text)
        port = parts.port  # raises on a bad port
    except ValueError:
        parts, port = urlsplit(""), None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise InvalidInputError(f"{value!r} is not an origin; write it as https://host or https://host:port")
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port is not None else "")


def parse_role(value: str) -> Role:
    """A role by name, or InvalidInputError naming the roles."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise InvalidInputError(f"unknown role {value!r}; roles: {', '.join(r.value for r in Role)}") from None


def default_hasher() -> PasswordHasher:
    """argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane). A key's secret has 256 random bits, so a costlier
    hash adds no protection, only per-request CPU and memory (every authenticated request verifies once)."""
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


class KeyStore:
    """API keys in the answers' database, stored as argon2 hashes."""

    def __init__(self, engine: Engine, hasher: PasswordHasher | None = None) -> None:
        self._engine = engine
        self._hasher = hasher or default_hasher()

    @cached_property
    def _dummy(self) -> str:
        return self._hasher.hash(secrets.token_urlsafe(32))

    def create(self, role: Role, name: str, origins: Sequence[str] = ()) -> NewKey:
        """A new key for `name`; names are unique among active keys (they are who the audit trail names).
        Only site keys take `origins`, the browser origins allowed to use them."""
        name = " ".join(name.split())
        if not name or len(name) > 200:
            raise InvalidInputError("a key's name must have 1 to 200 characters")
        if origins and role is not Role.SITE:
            raise InvalidInputError(f"only site keys take origins; a {role.value} key is not used from a browser")
        allowed = list(dict.fromkeys(parse_origin(o) for o in origins))
        key_id = secrets.token_hex(8)
        key = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
        row = KeyRow(id=key_id, name=name, role=role.value, hash=self._hasher.hash(key), created_at=now_iso(),
                     revoked_at="", origins=json.dumps(allowed))
        with Session(self._engine) as session, session.begin():
            taken = session.scalar(select(KeyRow.id).where(KeyRow.name == name, KeyRow.revoked_at == ""))
            if taken:
                raise ConflictError(f"an active key is named {name!r} (id {taken}); revoke it first")
            session.add(row)
            session.flush()
            return NewKey(_info(row), key)

    def list(self) -> list[KeyInfo]:
        """Every key, revoked ones included, oldest first."""
        with Session(self._engine) as session:
            return [_info(r) for r in session.scalars(select(KeyRow).order_by(KeyRow.created_at, KeyRow.id))]

    def site_origins(self) -> set[str]:
        """Every origin some active site key lists (the CORS allowlist's dynamic part)."""
        with Session(self._engine) as session:
            rows = session.scalars(select(KeyRow.origins).where(KeyRow.role == Role.SITE.value,
                                                                KeyRow.revoked_at == ""))
            return {origin for raw in rows for origin in json.loads(raw or "[]")}

    def revoke(self, name_or_id: str) -> KeyInfo:
        """Revoke the active key with this id or name; NotFoundError when there is none."""
        with Session(self._engine) as session, session.begin():
            row = session.get(KeyRow, name_or_id)
            if row is None or row.revoked_at:
                row = session.scalars(select(KeyRow).where(KeyRow.name == name_or_id, KeyRow.revoked_at == "")
                                      ).first()
            if row is None:
                raise NotFoundError(f"no active key has the id or name {name_or_id!r}")
            row.revoked_at = now_iso()
            session.flush()
            return _info(row)

    def verify(self, key: str) -> Principal:
        """Who holds this key; AuthenticationError when it is malformed, unknown, revoked or wrong."""
        match = _SHAPE.match(key)
        row: KeyRow | None = None
        if match:
            with Session(self._engine) as session:
                row = session.get(KeyRow, match.group(1))
                if row is not None:
                    session.expunge(row)
        usable = row is not None and not row.revoked_at
        ok = False
        with contextlib.suppress(VerificationError, InvalidHashError):
            ok = self._hasher.verify(row.hash if row is not None and usable else self._dummy, key)
        if not (ok and usable and row is not None):
            raise AuthenticationError("invalid or revoked API key")
        return Principal(row.id, row.name, Role(row.role), _origins(row))
