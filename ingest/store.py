"""The chunk store: one SQLite file that is the index's source of truth (documents, chunks, vectors)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ingest.embedding import ChunkVectors
from ingest.models import Chunk, Document, Span
from medcite.errors import IndexMismatchError, IndexStoreError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, hash TEXT NOT NULL, source TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(id), ordinal INTEGER NOT NULL,
    body TEXT NOT NULL, vector BLOB NOT NULL, sentence_vectors BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""


def _doc_to_json(doc: Document) -> str:
    return json.dumps(dataclasses.asdict(doc), ensure_ascii=False)


def _doc_from_json(blob: str) -> Document:
    """A stored document; rows written before a field existed get its default (`dois` is derived from `doi`)."""
    data = json.loads(blob)
    for key in ("topics", "page_starts", "dois"):
        data[key] = tuple(data.get(key) or ())
    data["extra"] = tuple(tuple(pair) for pair in data.get("extra") or ())
    return Document(**data)


def _chunk_to_json(chunk: Chunk) -> str:
    data = dataclasses.asdict(chunk)
    data["sentences"] = [[s.start, s.end] for s in chunk.sentences]
    return json.dumps(data, ensure_ascii=False)


def _chunk_from_json(blob: str) -> Chunk:
    data = json.loads(blob)
    data["section_path"] = tuple(data["section_path"])
    data["sentences"] = tuple(Span(a, b) for a, b in data["sentences"])
    return Chunk(**data)


class ChunkStore:
    """Documents, chunks and their vectors in SQLite; every write is one transaction."""

    def __init__(self, path: Path, *, create: bool) -> None:
        if not path.exists() and not create:
            raise IndexStoreError(f"no chunk store at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and not {"meta", "documents", "chunks"} <= tables:
                # Another program's database: creating our tables in it would change someone else's data.
                raise IndexStoreError(f"index folder {path.parent}: {path.name} is not a medcite chunk store "
                                      f"(it has tables {', '.join(sorted(tables)[:5])}); use another --index folder")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise IndexStoreError(f"index folder {path.parent}: {path.name} is corrupt or not a chunk store ({exc}); "
                                  "rebuild it with `medcite ingest` into a new --index folder") from None
        except IndexStoreError:
            self._db.close()
            raise

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole store at target (SQLite's online backup)."""
        with self._lock:
            copy = sqlite3.connect(target)
            try:
                self._db.backup(copy)
            finally:
                copy.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- meta ---------------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        """Recorded build settings and sync markers."""
        with self._lock:
            return dict(self._db.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, values: dict[str, str]) -> None:
        """Record values in meta."""
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", values.items())

    def check_build(self, expected: dict[str, str]) -> None:
        """Record the build settings on first use; refuse an index built with other ones."""
        current = self.meta()
        if not any(key in current for key in expected):
            self.set_meta(expected)
            return
        diffs = [
            f"{k}: index has {current.get(k)!r}, settings ask {v!r}"
            for k, v in expected.items()
            if current.get(k) != v
        ]
        if diffs:
            raise IndexMismatchError(
                f"index at {self.path.parent} was built with other settings ({'; '.join(diffs)}); "
                "rebuild it into a new --index folder or use the settings it was built with"
            )

    # -- documents ----------------------------------------------------------------------------------------
    def document_hashes(self) -> dict[str, tuple[str, str]]:
        """Document id → (content hash, source) of every stored document."""
        with self._lock:
            rows = self._db.execute("SELECT id, hash, source FROM documents").fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def documents(self) -> list[Document]:
        """Every stored document, texts included."""
        with self._lock:
            rows = self._db.execute("SELECT body FROM documents ORDER BY id").fetchall()
        return [_doc_from_json(r[0]) for r in rows]

    def replace_documents(
        self, items: Sequence[tuple[Document, Sequence[Chunk], Sequence[ChunkVectors]]]
    ) -> tuple[list[str], list[str]]:
        """Write documents with their chunks, replacing older versions; returns (written ids, deleted ids)."""
        written: list[str] = []
        deleted: list[str] = []
        with self._transaction() as db:
            for doc, chunks, vectors in items:
                old = {r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc.id,))}
                new = {c.id for c in chunks}
                gone = sorted(old - new)
                db.executemany("DELETE FROM chunks WHERE id = ?", [(i,) for i in gone])
                db.execute(
                    "INSERT OR REPLACE INTO documents(id, hash, source, body) VALUES (?, ?, ?, ?)",
                    (doc.id, doc.content_hash, doc.source, _doc_to_json(doc)),
                )
                db.executemany(
                    "INSERT OR REPLACE INTO chunks(id, doc_id, ordinal, body, vector, sentence_vectors) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            c.id,
                            c.doc_id,
                            c.ordinal,
                            _chunk_to_json(c),
                            v.passage.astype(np.float32).tobytes(),
                            v.sentences.astype(np.float16).tobytes(),
                        )
                        for c, v in zip(chunks, vectors, strict=True)
                    ],
                )
                deleted += gone
                written += [c.id for c in chunks]
        return written, deleted

    def delete_documents(self, doc_ids: Iterable[str]) -> list[str]:
        """Remove documents and their chunks; returns the deleted chunk ids."""
        deleted: list[str] = []
        with self._transaction() as db:
            for doc_id in doc_ids:
                deleted += [r[0] for r in db.execute("SELECT id FROM chunks WHERE doc_id = ?", (doc_id,))]
                db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
                db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))
        return deleted

    # -- chunks -------------------------------------------------------------------------------------------
    def chunk_ids(self) -> list[str]:
        """Every chunk id, sorted."""
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT id FROM chunks ORDER BY id")]

    def fingerprint(self) -> str:
        """Hash of the set of chunk ids: equal fingerprints mean equal indexes (ids are content hashes)."""
        digest = hashlib.sha256()
        for chunk_id in self.chunk_ids():
            digest.update(chunk_id.encode("ascii"))
        return digest.hexdigest()[:24]

    def count(self) -> tuple[int, int]:
        """(documents, chunks)."""
        with self._lock:
            docs = self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            chunks = self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return int(docs), int(chunks)

    def passages(self) -> tuple[list[str], list[str], list[str], np.ndarray]:
        """(chunk ids, doc ids, innermost section titles, passage matrix), in id order, without sentence data."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, doc_id, coalesce(json_extract(body, '$.section_path[#-1]'), ''), vector "
                "FROM chunks ORDER BY id"
            ).fetchall()
        if not rows:
            return [], [], [], np.zeros((0, 0), dtype=np.float32)
        matrix = np.stack([np.frombuffer(r[3], dtype=np.float32) for r in rows])
        return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], matrix

    def iter_chunks(
        self, ids: Sequence[str] | None = None, *, with_vectors: bool = True, dim: int = 0
    ) -> Iterator[tuple[Chunk, ChunkVectors | None]]:
        """Chunks (all, in id order, or the given ids in that order), optionally with their vectors."""
        cols = "id, body, vector, sentence_vectors" if with_vectors else "id, body"
        with self._lock:
            if ids is None:
                rows = self._db.execute(f"SELECT {cols} FROM chunks ORDER BY id").fetchall()
            else:
                marks = ",".join("?" * len(ids))
                found = {
                    r[0]: r
                    for r in self._db.execute(f"SELECT {cols} FROM chunks WHERE id IN ({marks})", list(ids))
                }
                rows = [found[i] for i in ids if i in found]
        for row in rows:
            chunk = _chunk_from_json(row[1])
            vectors = None
            if with_vectors:
                passage = np.frombuffer(row[2], dtype=np.float32)
                sentences = np.frombuffer(row[3], dtype=np.float16).astype(np.float32)
                vectors = ChunkVectors(passage=passage, sentences=sentences.reshape(-1, passage.shape[0]))
            yield chunk, vectors
